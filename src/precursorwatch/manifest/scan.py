"""The pre-scan of a text manifest's data lines: what the reader and the cleaner must expect.

One pass over the raw bytes, block by block, before any line is parsed: does every line
decode, have as many fields as the header (ragged), hold control or invisible characters
(dirty), run longer than :data:`~precursorwatch.manifest.model.MAX_FIELD_CHARS`, or consist of
empty fields only; and are its quotes where RFC 4180 puts them (strict), so that the fast
reader reads it as any parser would. Only positions of quotes, newlines and delimiters are
looked at (numpy), so the pass costs far less than parsing.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import NamedTuple

import numpy as np

from precursorwatch.identify.normalise import CONTROL_CHARS
from precursorwatch.manifest.model import MAX_FIELD_CHARS

_BLOCK_BYTES = 1 << 22


class Scan(NamedTuple):
    """What the pre-scan of the data lines found (the flags of the same name in ``Layout``)."""

    ragged: bool
    dirty: bool
    long_lines: bool
    blank_rows: bool
    strict: bool


def scan_body(path: Path, offset: int, encoding: str, delimiter: str, width: int) -> Scan | None:
    """Pre-scan the data lines from byte ``offset`` on; ``None`` if they do not all decode as
    ``encoding`` (the caller then tries another codec).

    Field counts are quote-aware: a delimiter or newline counts only where an even number of
    quote characters precede it on its line (RFC 4180 doubled quotes keep the parity). The
    unfinished last line of a block is carried into the next one. Where the quote parity
    cannot be trusted (a quote left open at the end, a line without end in sight), the file is
    called ragged, so that the row reader, which reads anything, decides.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    ragged = dirty = long_lines = blank_rows = False
    strict = width > 1
    carry = b""
    with open(path, "rb") as fh:
        fh.seek(offset)
        while True:
            block = fh.read(_BLOCK_BYTES)
            held = decoder.getstate()[0]
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError:
                return None
            if not dirty:
                raw = None
                if encoding == "utf-8":  # the text's own bytes: no need to encode it again
                    raw = held + block
                    raw = raw[: len(raw) - len(decoder.getstate()[0])]
                dirty = _has_controls(text, raw)
            if ragged and long_lines:
                if not block:
                    break
                continue
            buf = carry + (block if encoding == "utf-8" else text.encode())
            if not buf:
                break
            if not block:  # the last line has no newline: count it as if it had one
                buf += b"\n"
                # a quote left open at the end: parsers disagree, the row reader decides
                ragged = ragged or bool(buf.count(b'"') % 2)
            lines = _BlockLines(buf, delimiter)
            carry = lines.rest
            long_lines = long_lines or len(carry) > MAX_FIELD_CHARS
            if len(lines.ends):
                long_lines = long_lines or int(lines.lengths.max()) > MAX_FIELD_CHARS
                counts = lines.delimiters()
                odd = np.flatnonzero(counts != width - 1)
                # a line of delimiters only (an empty spreadsheet row) is dropped later
                blank_rows = blank_rows or bool(np.any(lines.lengths <= counts + 1))
                # lines of only whitespace are skipped by every reader, not ragged
                texts = [lines.text(int(i)) for i in odd[:101]]
                ragged = ragged or len(odd) > 100 or any(t.strip() for t in texts)
                strict = strict and all(t in (b"", b"\r") for t in texts) and lines.strict()
            if len(carry) > 16 * MAX_FIELD_CHARS:  # no line end in sight: the row reader decides
                ragged, carry = True, b""
            if not block:
                break
    return Scan(ragged, dirty, long_lines, blank_rows, strict)


class _BlockLines:
    """The complete lines of a block of bytes (it starts at a line start), quote-aware.

    Works on the positions of quotes, newlines and delimiters only: whether a position is
    inside quotes is the parity of the number of quotes before it (a binary search), so the
    cost follows the number of those characters rather than of bytes.
    """

    def __init__(self, buf: bytes, delimiter: str) -> None:
        self.buf = buf
        data = np.frombuffer(buf, np.uint8)
        self.quotes = np.flatnonzero(data == 34)
        self.ends = self._outside(np.flatnonzero(data == 10))
        self.starts = np.concatenate(([0], self.ends[:-1] + 1)).astype(np.int64)
        self.lengths = self.ends - self.starts
        self.rest = buf[self.ends[-1] + 1 :] if len(self.ends) else buf
        self._data, self._delimiter = data, ord(delimiter)

    def _outside(self, at: np.ndarray) -> np.ndarray:
        """The positions of ``at`` (none of them a quote) outside quotes."""
        if not len(self.quotes):
            return at
        outside: np.ndarray = at[np.searchsorted(self.quotes, at) % 2 == 0]
        return outside

    def delimiters(self) -> np.ndarray:
        """Delimiters outside quotes on each line: all of them, less those inside the quoted
        stretches (from an odd-numbered quote to the next one) of that line."""
        found = np.flatnonzero(self._data[: self.ends[-1]] == self._delimiter)
        counts: np.ndarray = np.diff(np.searchsorted(found, self.ends), prepend=0)
        opens, closes = self.quotes[0::2], self.quotes[1::2]
        opens = opens[opens < self.ends[-1]]
        if len(opens):
            closes = np.append(closes, self.ends[-1])[: len(opens)]
            inside = np.searchsorted(found, closes) - np.searchsorted(found, opens)
            line = np.searchsorted(self.ends, opens)
            counts = counts - np.bincount(line, weights=inside, minlength=len(counts)).astype(
                counts.dtype
            )
        return counts

    def text(self, i: int) -> bytes:
        """The bytes of line ``i``, without its newline."""
        return self.buf[self.starts[i] : self.ends[i]]

    def strict(self) -> bool:
        """Whether the complete lines are quoted as RFC 4180 says (every parser reads them
        alike): each quote opens a field, closes one or is doubled inside one, and every CR
        is part of a CRLF."""
        body = self.buf[: self.ends[-1] + 1]
        if b"\r" in body and body.count(b"\r") != body.count(b"\r\n"):
            return False
        quotes = self.quotes[self.quotes < self.ends[-1]]
        opens, closes = quotes[0::2], quotes[1::2]
        if not len(opens):
            return True
        field_ends = np.array([self._delimiter, 10, 13], dtype=np.uint8)
        before = self._data[np.maximum(opens - 1, 0)]
        after = self._data[closes + 1]
        doubled = np.append(closes[: len(opens) - 1] + 1 == opens[1:], False)
        opening = (opens == 0) | np.isin(before, field_ends[:2]) | np.append(False, doubled[:-1])
        closing = np.isin(after, field_ends) | doubled[: len(closes)]
        return bool(opening.all() and closing.all())


#: The UTF-8 bytes that can begin a character of CONTROL_CHARS: its ASCII controls, and the
#: lead bytes of its other characters (U+0080-U+00BF, U+034F, U+061C, U+1xxx, U+2xxx,
#: U+Fxxx, U+E00xx; tests check the list against the pattern). The others are deleted to see
#: whether any is left.
_ASCII_CONTROLS = bytes(b for b in range(128) if CONTROL_CHARS.match(chr(b)))
_CONTROL_LEADS = b"\xc2\xcd\xd8\xe1\xe2\xef\xf3"
_NOT_CONTROL_START = bytes(b for b in range(256) if b not in _ASCII_CONTROLS + _CONTROL_LEADS)
#: Candidate characters checked one by one before the regex runs on the whole text instead.
_MAX_CANDIDATES = 10_000


def _has_controls(text: str, raw: bytes | None = None) -> bool:
    """``CONTROL_CHARS.search(text) is not None``, answered mostly on bytes.

    On the UTF-8 bytes (``raw``, when the caller has them) every such character is an ASCII
    control byte or starts with one of a few lead bytes; only the characters starting with
    those go through the regex.
    """
    if raw is None:
        raw = text.encode("utf-8", "surrogatepass")
    starts = raw.translate(None, _NOT_CONTROL_START)
    if not starts:
        return False
    if starts.translate(None, _CONTROL_LEADS):  # an ASCII control character
        return True
    return _lead_is_control(raw, text)


def _lead_is_control(raw: bytes, text: str) -> bool:
    """Whether a character of ``raw`` (``text`` encoded) that begins with a lead byte of
    :data:`_CONTROL_LEADS` is in CONTROL_CHARS; many candidates: the regex on ``text``."""
    seen = 0
    for lead in _CONTROL_LEADS:
        at = raw.find(lead)
        while at >= 0:
            if CONTROL_CHARS.match(raw[at : at + 4].decode("utf-8", "ignore")):
                return True
            seen += 1
            if seen > _MAX_CANDIDATES:
                return CONTROL_CHARS.search(text) is not None
            at = raw.find(lead, at + 1)
    return False
