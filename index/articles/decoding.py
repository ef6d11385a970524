"""Article bytes to text: UTF-8 (a BOM allowed), UTF-16 with a BOM, else cp1252; binary refused."""

from __future__ import annotations

import codecs

#: How much of a file is looked at to tell a binary file.
BINARY_SAMPLE = 8192


def decode(data: bytes) -> tuple[str, bool]:
    """Decode file bytes: UTF-8 (BOM allowed), UTF-16 with a BOM, else cp1252.

    Returns:
        The text and whether the cp1252 fallback was used.

    Raises:
        UnicodeDecodeError: If the bytes are neither.
    """
    if has_utf16_bom(data):
        return data.decode("utf-16"), False
    try:
        return data.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        return data.decode("cp1252"), True


def has_utf16_bom(data: bytes) -> bool:
    """Whether ``data`` starts with a UTF-16 byte order mark (its NUL bytes are text then)."""
    return data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def looks_binary(text: str) -> bool:
    """Control characters other than whitespace in more than 1 of 20 characters."""
    sample = text[:BINARY_SAMPLE]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    return "\x00" in sample or controls * 20 > len(sample)
