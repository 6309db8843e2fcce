"""The physical line each row of a CSV starts on (header = line 1), found by one pass over the
file's bytes with numpy (1 MB at a time, no loop over rows) that follows the CSV parser's rules.

The parser (pyarrow, with `newlines_in_values`) gives no line numbers: it skips blank lines,
reads a quoted value across line breaks, and sets aside a record whose field count differs
from the header's (quarantined `malformed_row`), so counting the rows it keeps names the wrong
line after any of these. The scan finds each record's end (a line end outside quotes: LF,
CR LF, or a lone CR as the parser reads it), its first line (LF counted before it), whether it
is blank (also a line holding only a DOS end-of-file mark, Ctrl-Z, which the reader skips),
and, when asked, its field count (delimiters outside quotes). It keeps only the exceptions:
where the gap between a kept row's ordinal and its line changes, and the lines of the records
the parser sets aside, in file order. A chunk whose line ends each end one one-line record is
counted, not walked.

Quoting, as the parser reads it: a `"` opens a quoted value only at the start of a field; inside
one, `""` is a quote and a lone `"` closes it; a `"` inside an unquoted value is text. Quote
parity (kept in 64-bit words: a bit per byte, ingest/bitwords.py) gives the quoted stretches
when every quote that would open one stands at a field start; a quote that does not (`5" wound`)
is found by that test. In a chunk where no quote starts a field all quotes are text; otherwise
the runs of such quotes are set aside one search each (a step per run: a file quoting some
fields and writing a bare `"` in many rows is the slow case) before the parity is taken again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hyposcreen.ingest.bitwords import as_words, bit_at, odd_so_far, set_before, shifted_up

CHUNK_BYTES = 1 << 20  # small enough for the masks to stay in the CPU cache: 3x faster than 16 MB
_QUOTE, _LF, _CR = 34, 10, 13
_EOF_MARK = 26  # Ctrl-Z, which DOS tools and `copy /a` write after the last line: no record
_U = np.uint64
_BOM = b"\xef\xbb\xbf"


@dataclass
class RecordLines:
    """Where the rows of one CSV start, kept as exceptions (see `lines_of`)."""

    # kept-row ordinals (0-based) from which the gap `line - ordinal - 2` takes a new value
    gap_from: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    gap: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    set_aside: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # their lines
    kept: int = 0  # records with the header's field count (rows the parser keeps)
    # the first line of the record still inside a quoted value at the end of the file (a
    # quote never closed swallowed every line after it), 0: none
    open_quote_line: int = 0

    def lines_of(self, first: int, count: int) -> np.ndarray:
        """The lines of the kept rows `first` .. `first + count - 1` (int64)."""
        ordinals = np.arange(first, first + count, dtype=np.int64)
        at = np.searchsorted(self.gap_from, ordinals, side="right") - 1
        gaps = np.where(at >= 0, self.gap[np.maximum(at, 0)], 0) if len(self.gap) else 0
        return ordinals + 2 + gaps

    def rows_between(self, after: int, before: int | None) -> int:
        """How many kept rows start on a line after `after` and before `before` (None: up
        to the end of the file)."""
        return self._rows_before(before) - self._rows_before(after + 1)

    def _rows_before(self, line: int | None) -> int:
        """How many kept rows start before `line` (their lines rise with their ordinals)."""
        if line is None:
            return self.kept
        low, high = 0, self.kept
        while low < high:
            middle = (low + high) // 2
            if int(self.lines_of(middle, 1)[0]) < line:
                low = middle + 1
            else:
                high = middle
        return low


class RecordScan:
    """The state carried from one chunk to the next."""

    def __init__(self, delimiter: int, columns: int | None) -> None:
        self.delimiter, self.columns = delimiter, columns
        self.count_fields = columns is not None  # else every record counts as a kept row
        self.parity = 0  # inside a quoted value at the chunk's start
        self.after_separator = 1  # the byte before the chunk ends a field (or there is none)
        self.after_quote = 0  # ... is a quote that counts (a pair's half or a closing one)
        self.last_byte = self.before_last = -1
        self.offset = 0  # bytes before the chunk
        self.line_ends = 0  # LF before the chunk
        self.delimiters = 0  # delimiters outside quotes before the chunk
        self.end = -1  # where the last record ended (its line end), -1: none yet
        self.end_lines = 0  # LF up to and including that line end
        self.end_delimiters = 0  # delimiters outside quotes before it
        self.header = True  # the next record is the header
        self.result = RecordLines()
        self._gap_from: list[np.ndarray] = []
        self._gap: list[np.ndarray] = []
        self._set_aside: list[np.ndarray] = []
        self.last_gap = 0

    def chunk(self, data: bytes | bytearray) -> None:
        raw = np.frombuffer(data, dtype=np.uint8)
        lf_mask = raw == _LF
        lf = as_words(lf_mask)
        none = np.zeros_like(lf)
        cr = as_words(raw == _CR) if data.find(b"\r") >= 0 else none
        quoted = data.find(b'"') >= 0
        delimiters = as_words(raw == self.delimiter) if quoted or self.count_fields else none
        if quoted:
            inside = self._quoted(raw, lf, cr, delimiters)
        else:
            inside = none - _U(self.parity)  # all in or all out
            self.after_quote = 0
        lone = none
        if cr is not none:  # a CR not followed by LF ends a record too (the parser reads it so)
            lone = cr & ~inside & ~((lf >> _U(1)) | (np.append(lf[1:], _U(0)) << _U(63)))
        if self.count_fields or not self._plain(data, lf, cr, inside, lone):
            lf_at = np.flatnonzero(lf_mask)
            ends = lf_at[~bit_at(inside, lf_at)] if len(lf_at) else lf_at
            if lone.any():
                bits = np.unpackbits(lone.view(np.uint8), bitorder="little")
                ends = np.union1d(ends, np.flatnonzero(bits[: len(raw)]))
            self._records(raw, ends, lf_at, delimiters & ~inside)
            self.delimiters += int(np.bitwise_count(delimiters & ~inside).sum())
            self.line_ends += len(lf_at)
        self.offset += len(raw)
        if len(raw):
            self.before_last, last = self.last_byte, int(raw[-1])
            self.after_separator = int(last in (self.delimiter, _LF, _CR))
            self.last_byte = last

    def _plain(
        self,
        data: bytes | bytearray,
        lf: np.ndarray,
        cr: np.ndarray,
        inside: np.ndarray,
        lone: np.ndarray,
    ) -> bool:
        """Count the chunk's records without finding them when each of its LF ends one record
        of one line (no LF in quotes, no blank line, no lone CR, no record still open over a
        line end); False (nothing counted) otherwise."""
        if self.line_ends != self.end_lines or (lf & inside).any() or lone.any():
            return False
        if data.find(b"\x1a") >= 0:  # an end-of-file mark: is it a line of its own?
            return False
        after_lf = shifted_up(lf, int(self.last_byte == _LF))
        after_cr_lf = shifted_up(cr, int(self.last_byte == _CR)) & shifted_up(
            after_lf, int(self.before_last == _LF)
        )
        if (lf & (after_lf | after_cr_lf)).any():
            return False
        records = int(np.bitwise_count(lf).sum())
        if records:
            first_line = self.end_lines + 1 + int(self.header)
            kept = records - int(self.header)
            self.header = False
            self._add_run(first_line, kept)
            self.end = self.offset + data.rfind(b"\n")
            self.end_lines += records
        self.line_ends += records
        return True

    def _add_run(self, first_line: int, kept: int) -> None:
        """`kept` rows of one line each from `first_line` on."""
        if kept <= 0:
            return
        gap = first_line - self.result.kept - 2
        if gap != self.last_gap:
            self._gap_from.append(np.array([self.result.kept], np.int64))
            self._gap.append(np.array([gap], np.int64))
            self.last_gap = gap
        self.result.kept += kept

    def _quoted(
        self, raw: np.ndarray, lf: np.ndarray, cr: np.ndarray, delimiters: np.ndarray
    ) -> np.ndarray:
        quotes = as_words(raw == _QUOTE)
        separators = shifted_up(delimiters | lf | cr, self.after_separator)
        if self.offset == 0 and raw[:3].tobytes() == _BOM:
            separators[0] |= _U(0b1110)  # a quote right after the byte-order mark opens a value
        paired = shifted_up(quotes, self.after_quote)
        inside, parity = odd_so_far(quotes, self.parity)
        stray = quotes & ~(inside ^ quotes) & ~separators & ~paired
        if stray.any() and self.parity == 0 and not (quotes & (separators | paired)).any():
            quotes = np.zeros_like(quotes)  # no quote starts a field: all are text
            inside, parity = quotes, 0
        elif stray.any():
            quotes = self._without_stray(raw, quotes, separators, paired)
            inside, parity = odd_so_far(quotes, self.parity)
        self.parity = parity
        self.after_quote = int(raw[-1] == _QUOTE and bit_at(quotes, np.array([len(raw) - 1]))[0])
        return inside

    def _without_stray(
        self, raw: np.ndarray, quotes: np.ndarray, separators: np.ndarray, paired: np.ndarray
    ) -> np.ndarray:
        """`quotes` without the quotes the parser reads as text: a quote outside a quoted
        value that does not start a field, and the quotes right after it."""
        at = np.flatnonzero(raw == _QUOTE)
        starts_field = bit_at(separators, at)
        after_quote = bit_at(paired, at)
        run_start = np.flatnonzero(~after_quote)  # runs of adjacent quotes
        run_end = np.empty(len(at), np.int64)
        run_end[run_start] = np.append(run_start[1:], len(at))
        run_end = np.maximum.accumulate(np.where(~after_quote, run_end, 0))
        text = ~starts_field & ~after_quote
        index = np.arange(len(at))
        candidates = (
            np.flatnonzero(text & (index % 2 == 0)),
            np.flatnonzero(text & (index % 2 == 1)),
        )
        parity, position, cleared = self.parity, 0, []
        while True:  # one step per run of quotes read as text
            pool = candidates[parity]
            found = int(np.searchsorted(pool, position))
            if found == len(pool):
                break
            first = int(pool[found])
            last = int(run_end[first])
            cleared.append(at[first:last])
            parity ^= (last - first) & 1
            position = last
        if not cleared:
            return quotes
        gone = np.concatenate(cleared)
        kept = quotes.copy()
        np.bitwise_and.at(kept, gone >> 6, ~(_U(1) << (gone & 63).astype(_U)))
        return kept

    def _records(
        self, raw: np.ndarray, ends: np.ndarray, lf_at: np.ndarray, outside: np.ndarray
    ) -> None:
        """The records ending at `ends` (chunk offsets of their line ends)."""
        if not len(ends):
            return
        lines = np.searchsorted(lf_at, ends, side="right") + self.line_ends  # LF up to each end
        delimiters = set_before(outside, ends) + self.delimiters
        glob = ends + self.offset
        previous = np.concatenate(([self.end], glob[:-1]))
        before_end = np.where(ends > 0, raw[np.maximum(ends - 1, 0)], self.last_byte)
        crlf = (raw[ends] == _LF) & (before_end == _CR) & (glob - 1 > previous)
        length = glob - previous - 1 - crlf
        first = previous + 1 - self.offset  # where each record's text starts in the chunk
        first_byte = np.where(first >= 0, raw[np.clip(first, 0, len(raw) - 1)], self.last_byte)
        blank = (length == 0) | ((length == 1) & (first_byte == _EOF_MARK))
        first_lines = np.concatenate(([self.end_lines], lines[:-1])) + 1
        fields = delimiters - np.concatenate(([self.end_delimiters], delimiters[:-1])) + 1
        self.end, self.end_lines, self.end_delimiters = (
            int(glob[-1]),
            int(lines[-1]),
            int(delimiters[-1]),
        )
        self._add(first_lines, fields, blank)

    def _add(self, first_lines: np.ndarray, fields: np.ndarray, blank: np.ndarray) -> None:
        first_lines, fields = first_lines[~blank], fields[~blank]
        if self.header and len(first_lines):
            self.header = False
            first_lines, fields = first_lines[1:], fields[1:]
        valid = fields == self.columns if self.count_fields else np.ones(len(fields), bool)
        self._set_aside.append(first_lines[~valid])
        kept_lines = first_lines[valid]
        ordinals = np.arange(self.result.kept, self.result.kept + len(kept_lines))
        gaps = kept_lines - ordinals - 2
        changes = np.flatnonzero(np.diff(gaps, prepend=self.last_gap) != 0)
        if len(changes):
            self._gap_from.append(ordinals[changes])
            self._gap.append(gaps[changes])
        if len(gaps):
            self.last_gap = int(gaps[-1])
        self.result.kept += len(kept_lines)

    def so_far(self) -> RecordLines:
        """The rows scanned so far (a copy: the scan goes on)."""
        kept = RecordLines(kept=self.result.kept)
        if self._gap_from:
            kept.gap_from, kept.gap = np.concatenate(self._gap_from), np.concatenate(self._gap)
        return kept

    def finish(self) -> RecordLines:
        mark_alone = self.offset - self.end - 1 == 1 and self.last_byte == _EOF_MARK
        if self.offset - 1 > self.end and not mark_alone:  # a last record without a line end
            fields = self.delimiters - self.end_delimiters + 1
            self._add(np.array([self.end_lines + 1]), np.array([fields]), np.array([False]))
        result = self.result
        result.open_quote_line = self.end_lines + 1 if self.parity else 0
        if self._gap_from:
            result.gap_from = np.concatenate(self._gap_from).astype(np.int64)
            result.gap = np.concatenate(self._gap).astype(np.int64)
        if self._set_aside:
            result.set_aside = np.concatenate(self._set_aside).astype(np.int64)
        return result
