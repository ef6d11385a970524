"""What the processor can do, read from the operating system rather than guessed.

The engine choice (``index/encoders/engine.py``) and the bench (``python -m bench``) both ask here: the
CPU's model name, the flags that decide how fast e5-small runs (native bfloat16 through AMX or
AVX-512 BF16; AVX2 and AVX-512 for float32), and how many threads there are.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: The flags that matter for the model's speed, in the order they are shown.
SHOWN_FLAGS = ("amx_bf16", "avx512_bf16", "avx512f", "avx2")
#: Either one means the CPU multiplies bfloat16 natively.
BF16_FLAGS = ("amx_bf16", "avx512_bf16")


@dataclass(frozen=True, slots=True)
class Cpu:
    """The processor this process runs on."""

    model: str
    flags: frozenset[str]
    cores: int

    @property
    def native_bf16(self) -> bool:
        """True when the CPU has AMX or AVX-512 BF16 instructions (bfloat16 runs natively)."""
        return any(flag in self.flags for flag in BF16_FLAGS)

    @property
    def shown_flags(self) -> tuple[str, ...]:
        """Which of :data:`SHOWN_FLAGS` the CPU has."""
        return tuple(flag for flag in SHOWN_FLAGS if flag in self.flags)

    def describe(self) -> str:
        """One line: model, cores and the flags that matter (``none`` when it has none)."""
        flags = ", ".join(self.shown_flags) or "none of " + ", ".join(SHOWN_FLAGS)
        return f"{self.model}, {self.cores} cores ({flags})"


def parse_cpuinfo(text: str, *, cores: int) -> Cpu:
    """The :class:`Cpu` of a ``/proc/cpuinfo`` text (the first processor's lines)."""
    model, flags = "", frozenset[str]()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:  # "Features" on ARM
            flags = frozenset(value.split())
    return Cpu(model=model or platform.processor() or "unknown CPU", flags=flags, cores=cores)


@lru_cache(maxsize=1)
def this_cpu() -> Cpu:
    """The CPU of this machine (``/proc/cpuinfo`` on Linux; elsewhere a model name, no flags)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    return parse_cpuinfo(text, cores=cores or 1)
