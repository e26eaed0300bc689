"""Where a file that should be UTF-8 is not, said so that its owner can find and fix it."""

from __future__ import annotations

import codecs

# Windows PowerShell's `>` and Notepad's "Unicode" save UTF-16 with one of these marks.
_UTF16_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def not_utf8(raw: bytes, start: int) -> tuple[int, str]:
    """The line of the first byte at `start` that is not UTF-8, and a message naming its
    column, the encoding it probably is and what to do.

    Python's own words give a byte offset into the whole file and no line.
    """
    line = raw.count(b"\n", 0, start) + 1
    column = start - (raw.rfind(b"\n", 0, start) + 1) + 1
    guess = (
        "UTF-16, as Windows PowerShell saves it?"
        if raw.startswith(_UTF16_MARKS)
        else "a Latin-1 or Windows encoding?"
    )
    byte = f"byte 0x{raw[start]:02x} at column {column}"
    return line, f"not UTF-8 text: {byte} ({guess}); save the file as UTF-8"
