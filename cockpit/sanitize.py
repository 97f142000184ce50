"""The one gate for untrusted text: control and bidi characters become visible notation.

Everything a connector returns (names, commit messages, log lines, annotations, error
bodies) passes through `clean` before it reaches the screen, and is then wrapped in a Rich
`Text` (never parsed as markup). Rich and Textual strip only a few C0 codes themselves;
ESC, C1 CSI and bidi overrides would otherwise reach the terminal.
"""

from __future__ import annotations

import re

# Unicode format characters that reorder or hide text ("Trojan Source"), plus the
# zero-width ones that can hide a difference between two names.
_BIDI = "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + "\u2028\u2029]")
_UNSAFE_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f" + _BIDI + "\u2028\u2029]")


def _visible(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    if code < 0x20:
        return "^" + chr(code + 0x40)  # caret notation, as less(1) shows it
    if code == 0x7F:
        return "^?"
    if code <= 0x9F:
        return f"\\x{code:02x}"
    return f"<U+{code:04X}>"


def clean(text: object, *, multiline: bool = False, limit: int | None = None) -> str:
    """Make untrusted text inert for a terminal.

    Control characters (C0 except tab, and newline when `multiline`), DEL, C1 and bidi
    or zero-width format characters are replaced by visible notation: `^[` for ESC,
    `\\x9b` for CSI, `<U+202E>` for a right-to-left override. Tabs become spaces.
    Markup brackets are left alone: callers put the result in `Text`, never in markup.
    """
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    pattern = _UNSAFE if multiline else _UNSAFE_ONE_LINE
    if s.isascii() and s.isprintable():
        out = s
    else:
        out = pattern.sub(_visible, s.replace("\t", "    "))
    if limit is not None and len(out) > limit:
        out = out[: max(limit - 1, 0)] + "…"
    return out


def first_line(text: object, limit: int | None = None) -> str:
    """The first line of a (commit) message, cleaned."""
    s = "" if text is None else str(text)
    return clean(s.split("\n", 1)[0].rstrip("\r"), limit=limit)
