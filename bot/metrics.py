"""Prometheus metrics of one bot process: questions, answers, reloads, daily summaries.

Each Application has a registry of its own (several in one test process never mix). With
``TANYA_METRICS_PORT`` set, it is served at ``/metrics`` on that port, in polling and webhook
mode alike: a port of its own keeps the figures off the public webhook URL.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

#: Answer times in seconds: from tens of milliseconds to a queue of several seconds.
ANSWER_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Reload times in seconds: nothing changed (under a second) to a full build (many minutes).
RELOAD_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class BotMetrics:
    """The counters and histograms one Application updates, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.questions = Counter(
            "tanya_questions",
            "Questions the bot replied to, by outcome: answered with quotes, or declined.",
            ["outcome"],
            registry=self.registry,
        )
        self.answer_seconds = Histogram(
            "tanya_answer_seconds",
            "Seconds from a question's arrival to its reply sent.",
            buckets=ANSWER_BUCKETS,
            registry=self.registry,
        )
        self.reloads = Counter(
            "tanya_reloads",
            "Reloads of articles and feeds (/reload and scheduled), by outcome: ok or failed.",
            ["outcome"],
            registry=self.registry,
        )
        self.reload_seconds = Histogram(
            "tanya_reload_seconds",
            "Seconds a reload took, failed ones included.",
            buckets=RELOAD_BUCKETS,
            registry=self.registry,
        )
        self.summaries = Counter(
            "tanya_summaries",
            "Daily summary messages, by outcome: sent, or failed (refused or errored attempts).",
            ["outcome"],
            registry=self.registry,
        )
        for counter, outcomes in (
            (self.questions, ("answered", "declined")),
            (self.reloads, ("ok", "failed")),
            (self.summaries, ("sent", "failed")),
        ):
            for outcome in outcomes:  # every series exists from the start, at 0
                counter.labels(outcome)

    def count_question(self, *, answered: bool, seconds: float) -> None:
        """One question replied to, ``seconds`` after it arrived."""
        self.questions.labels("answered" if answered else "declined").inc()
        self.answer_seconds.observe(seconds)

    def count_reload(self, *, ok: bool, seconds: float) -> None:
        """One reload that ran (not one refused because another was running)."""
        self.reloads.labels("ok" if ok else "failed").inc()
        self.reload_seconds.observe(seconds)

    def count_summaries(self, *, sent: int, failed: int) -> None:
        """What one run of the daily summary sent, and how many of its attempts failed."""
        self.summaries.labels("sent").inc(sent)
        self.summaries.labels("failed").inc(failed)


class MetricsPortError(RuntimeError):
    """The /metrics endpoint cannot listen where the settings say."""


@dataclass(frozen=True, slots=True)
class MetricsServer:
    """The ``/metrics`` HTTP server (prometheus_client's, in a thread of its own)."""

    server: WSGIServer
    thread: threading.Thread

    @classmethod
    def start(cls, metrics: BotMetrics, *, port: int, address: str) -> MetricsServer:
        """Serve ``metrics`` at ``http://address:port/metrics``.

        Raises:
            MetricsPortError: The port is taken, or the address is not this machine's.
        """
        try:
            server, thread = start_http_server(port, addr=address, registry=metrics.registry)
        except OSError as error:
            raise MetricsPortError(
                f"cannot serve metrics on {address}:{port} ({error.strerror or error}): "
                "set TANYA_METRICS_PORT to a free port, or TANYA_METRICS_LISTEN to an address "
                "of this machine"
            ) from error
        return cls(server=server, thread=thread)

    def stop(self) -> None:
        """Stop serving and close the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
