"""How a CSV in a legacy single-byte encoding is decoded: a file read as latin-1 (the mapping
says latin-1, ISO-8859-1, cp1252 or Windows-1252, or a file that is not UTF-8) is decoded as
Windows-1252, what Windows tools write under any of those names. Its bytes 0x80-0x9F are the
en dash of `2951–2`, the euro sign and curly quotes, never the control characters ISO-8859-1
puts there (the WHATWG encoding standard reads the label latin-1 alike); the five bytes
Windows-1252 leaves undefined keep their latin-1 reading, so no byte stops the read.

The decoding is a Python codec registered under `LEGACY_ENCODING` when this module is
imported, since Arrow's CSV reader transcodes through Python codecs by name."""

from __future__ import annotations

import codecs
import encodings.cp1252
from typing import Any

LEGACY_ENCODING = "hyposcreen-windows-1252"
_LATIN1_NAMES = frozenset({"latin-1", "latin1", "latin_1", "iso-8859-1", "iso8859-1", "l1"})
_WINDOWS_NAMES = frozenset({"cp1252", "windows-1252", "windows_1252"})

# cp1252's table with its undefined bytes (0x81, 0x8D, 0x8F, 0x90, 0x9D) read as latin-1
_DECODING = "".join(
    chr(byte) if char == "\ufffe" else char
    for byte, char in enumerate(encodings.cp1252.decoding_table)
)
_ENCODING = codecs.charmap_build(_DECODING)


def _encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
    return codecs.charmap_encode(text, errors, _ENCODING)


def _decode(data: Any, errors: str = "strict") -> tuple[str, int]:  # data: any buffer
    return codecs.charmap_decode(data, errors, _DECODING)


class _IncrementalEncoder(codecs.IncrementalEncoder):
    def encode(self, text: str, final: bool = False) -> bytes:
        return _encode(text, self.errors)[0]


class _IncrementalDecoder(codecs.IncrementalDecoder):
    def decode(self, data: Any, final: bool = False) -> str:
        return _decode(data, self.errors)[0]


def _search(name: str) -> codecs.CodecInfo | None:
    if name.replace("_", "-") != LEGACY_ENCODING:
        return None
    return codecs.CodecInfo(
        name=LEGACY_ENCODING,
        encode=_encode,
        decode=_decode,
        incrementalencoder=_IncrementalEncoder,
        incrementaldecoder=_IncrementalDecoder,
    )


codecs.register(_search)


def parse_encoding(declared: str) -> str:
    """The codec a CSV said to be in `declared` is decoded with: `LEGACY_ENCODING` for the
    latin-1 and Windows-1252 names, else `declared` itself."""
    name = declared.strip().lower()
    return LEGACY_ENCODING if name in _LATIN1_NAMES | _WINDOWS_NAMES else declared
