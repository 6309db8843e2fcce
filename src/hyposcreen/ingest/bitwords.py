"""Bool masks over a chunk of bytes packed into 64-bit words (bit i of the mask at bit i % 64
of word i // 64), and the whole-array operations on them the record scan (ingest/recordscan.py)
finds a CSV's line ends, delimiters and quoted stretches with: the byte before each byte, a bit
looked up, the bits set before a position, and the running parity of a mask (inside quotes).
"""

from __future__ import annotations

import numpy as np

_U = np.uint64


def as_words(mask: np.ndarray) -> np.ndarray:
    """A bool array as uint64 words, bit i of the array at bit i % 64 of word i // 64."""
    packed = np.packbits(mask, bitorder="little")
    pad = -len(packed) % 8
    if pad:
        packed = np.concatenate((packed, np.zeros(pad, np.uint8)))
    return packed.view(_U)


def shifted_up(words: np.ndarray, first: int) -> np.ndarray:
    """Bit i moved to bit i + 1 (what the byte before each byte is); `first` enters at bit 0."""
    carry = np.empty_like(words)
    carry[0] = first
    carry[1:] = words[:-1] >> _U(63)
    return (words << _U(1)) | carry


def bit_at(words: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Whether the bit at each of `positions` is set (a bool array)."""
    return ((words[positions >> 6] >> (positions & 63).astype(_U)) & _U(1)).astype(bool)


def set_before(words: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """How many bits are set before each of `positions` (sorted or not)."""
    totals = np.concatenate(([0], np.cumsum(np.bitwise_count(words), dtype=np.int64)))
    word = positions >> 6
    low = words[word] & ((_U(1) << (positions & 63).astype(_U)) - _U(1))
    return totals[word] + np.bitwise_count(low).astype(np.int64)


def odd_so_far(quotes: np.ndarray, parity: int) -> tuple[np.ndarray, int]:
    """Bits set where the bits of `quotes` so far (this one included) are odd in number (in
    the record scan: inside a quoted value), `parity` being the count's parity before these
    words; and the parity after them."""
    inclusive = quotes.copy()
    for step in (1, 2, 4, 8, 16, 32):
        inclusive ^= inclusive << _U(step)
    word_parity = (np.bitwise_count(quotes) & 1).astype(_U)
    after = np.bitwise_xor.accumulate(word_parity) ^ _U(parity)
    before = after ^ word_parity
    return inclusive ^ (_U(0) - before), int(after[-1]) if len(after) else parity
