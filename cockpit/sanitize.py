"""The one gate for untrusted text: control and bidi characters become visible notation.

Everything a connector returns (names, commit messages, log lines, annotations, error
bodies) passes through `clean` before it reaches the screen, and is then wrapped in a Rich
`Text` (never parsed as markup). Rich and Textual strip only a few C0 codes themselves;
ESC, C1 CSI and bidi overrides would otherwise reach the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import fields, is_dataclass, replace
from datetime import datetime
from enum import Enum
from functools import cache
from itertools import chain, compress, repeat
from operator import attrgetter, is_, is_not
from typing import Any, TypeVar

from cockpit.field_kinds import STR, TEXTLESS, field_kinds

T = TypeVar("T")

# Unicode format characters that reorder or hide text ("Trojan Source"), plus the
# zero-width ones that can hide a difference between two names.
_BIDI = "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"


@cache
def _unsafe(multiline: bool) -> re.Pattern[str]:
    """What `clean` replaces: C0 (but tab, and newline when `multiline`), DEL, C1, bidi and
    zero-width characters, line separators and lone surrogates (JSON may carry "\\ud800";
    no terminal can encode one).

    Compiled when first needed (~0.4 ms each, on the cockpit's start-up path otherwise):
    printable text, most text, never needs it.
    """
    c0 = "\x00-\x08\x0b-\x1f" if multiline else "\x00-\x1f"
    return re.compile(f"[{c0}\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")


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
    if s.isprintable():  # every character the patterns match is unprintable, tab too
        out = s
    else:
        out = _unsafe(multiline).sub(_visible, s.replace("\t", "    "))
    if limit is not None and len(out) > limit:
        out = out[: max(limit - 1, 0)] + "…"
    return out


def one_line(text: str, limit: int | None = None) -> str:
    """Untrusted text as one cleaned line: any whitespace run (line breaks too) one space.

    Most text already is one (a 24 h timeline asks 100,000 times): printable text holds
    no control, bidi, zero-width or line-separator character (all are unprintable), so
    with no run of spaces and none at either end it comes back as it is, without a regex.
    """
    if (
        text.isprintable()
        and "  " not in text
        and text[:1] != " "
        and text[-1:] != " "
        and (limit is None or len(text) <= limit)
    ):
        return text
    return clean(" ".join(text.split()), limit=limit)


def first_line(text: object, limit: int | None = None) -> str:
    """The first line of a (commit) message, cleaned."""
    s = "" if text is None else str(text)
    return clean(s.split("\n", 1)[0].rstrip("\r"), limit=limit)


def inert_json(text: str) -> str:
    """JSON text (from json.dumps) with DEL, C1 and bidi or zero-width characters written
    as \\u escapes: the same data for a parser, inert bytes for a terminal (`status --json`)."""
    return _unsafe(True).sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def literal_markup(text: object) -> str:
    """Untrusted text for a sink that only takes Textual markup (palette hits and help).

    Cleaned, then every `[` escaped: Textual's own `escape` leaves `[$var]` and `[B]` live,
    and a stray `[/]` raises MarkupError, which would take the app down.
    """
    return clean(text, multiline=True).replace("[", "\\[")


# How `_inert` treats each type, worked out once per type: a dispatch by exact type is
# several times faster than isinstance chains over the ~10,000 values of a large poll.
_PLAIN, _STR, _SEQ, _MAP = "plain", "str", "seq", "map"
_KINDS: dict[type, str | tuple[str, ...]] = {
    int: _PLAIN,
    float: _PLAIN,
    bool: _PLAIN,
    datetime: _PLAIN,
    type(None): _PLAIN,
    str: _STR,
    tuple: _SEQ,
    frozenset: _SEQ,
}


def _kind(cls: type) -> str | tuple[str, ...]:
    kind = _KINDS.get(cls)
    if kind is None:
        if issubclass(cls, Enum):
            kind = _PLAIN
        elif issubclass(cls, Mapping):
            kind = _MAP
        elif is_dataclass(cls):
            kind = _text_fields(cls)
        else:
            kind = _PLAIN
        _KINDS[cls] = kind
    return kind


def _text_fields(cls: type) -> tuple[str, ...]:
    """A dataclass's fields that may hold text: those typed as numbers, times, enums or
    tuples of them are skipped (a metric series' thousand floats are never walked)."""
    kinds = field_kinds(cls)
    return tuple(
        f.name
        for f in fields(cls)
        if f.init
        and not f.metadata.get("hint")  # a hint beside the facts (Observation.changed): dropped
        and kinds[f.name] != TEXTLESS
    )


def inert(value: T) -> T:
    """`value` with every string in it cleaned, keeping newlines (frozen dataclasses, tuples,
    frozensets and mappings are rebuilt only where something changed).

    The hub runs every observation through this once, so a name with ESC or a bidi override
    is inert everywhere it is shown; objects that were already clean are returned as they
    are, so the snapshot's identity-based reuse of unchanged parts keeps working.
    """
    if getattr(value, "changed", None) and is_dataclass(value):
        value = replace(value, changed=())  # type: ignore[type-var]  # the hint is not kept
    return _inert(value)


def _inert(value: Any) -> Any:
    kind = _KINDS.get(type(value)) or _kind(type(value))
    if kind is _PLAIN:
        return value
    if kind is _STR:
        out = clean(value, multiline=True)
        return value if out == value else out
    if kind is _SEQ:
        if _clean_items(value):
            return value
        items = [_inert(v) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items)
    if kind is _MAP:
        pairs = [(_inert(k), _inert(v)) for k, v in value.items()]
        if all(k is a and v is b for (k, v), (a, b) in zip(pairs, value.items(), strict=True)):
            return value
        return type(value)(dict(pairs))
    strs, _, rest = _PLANS.get(type(value)) or _plan(type(value))
    if strs is None or _printable(strs(value)):
        for name in rest:
            old = getattr(value, name)
            if _inert(old) is not old:
                break
        else:
            return value  # the common case: its text fields were clean as they are
    changed = {}
    for name in kind:
        old = getattr(value, name)
        if type(old) is str and old.isascii() and old.isprintable():
            continue  # the common case, without a call
        new = _inert(old)
        if new is not old:
            changed[name] = new
    return replace(value, **changed) if changed else value


# Per dataclass: a getter of its fields typed `str` (None if none), whether it gets more than
# one, and its other text fields. Printable text is clean as it is (every character `clean`
# replaces is unprintable), and a joined string is printable when every part is: one C call
# checks a run's eleven strings, or every string of its eight stages.
_Plan = tuple["attrgetter[Any] | None", bool, tuple[str, ...]]
_PLANS: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    kinds = field_kinds(cls)
    names = _kind(cls)
    assert isinstance(names, tuple)
    strs = tuple(n for n in names if kinds[n] == STR)
    getter = attrgetter(*strs) if strs else None
    plan = (getter, len(strs) > 1, tuple(n for n in names if n not in strs))
    _PLANS[cls] = plan
    return plan


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))  # the ASCII that str.isprintable passes


def _printable(parts: Any) -> bool:
    """Whether the strings `parts` yields (or the one string it is) are all printable; False
    when a part is not a string (a field typed `str` holding something else)."""
    try:
        text = "".join(parts)
    except TypeError:
        return False
    if len(text) > 4096 and text.isascii():  # a bulk check: deleting the printable bytes
        return not text.encode("ascii").translate(None, _PRINTABLE_ASCII)  # is ~4x faster
    return text.isprintable()


def _clean_items(items: Any) -> bool:
    """Whether a collection of one dataclass type (a run's stages, a deployment's history, a
    poll's 30,000 deployments) or of strings is clean as it is, by one check of all their
    strings, and of their other text fields' values the same way (all the deployments'
    revisions at once). False when that cannot tell: then each item is walked."""
    kinds = set(map(type, items))
    if len(kinds) != 1:
        return not kinds
    cls = kinds.pop()
    kind = _KINDS.get(cls) or _kind(cls)
    if kind is _STR:
        return _printable(items)
    if type(kind) is not tuple:
        return kind is _PLAIN
    strs, many, rest = _PLANS.get(cls) or _plan(cls)
    if strs is not None and not _printable(
        chain.from_iterable(map(strs, items)) if many else map(strs, items)
    ):
        return False
    for name in rest:
        values = [v for v in map(attrgetter(name), items) if v is not None]
        if values and set(map(type, values)) == {tuple}:
            values = list(chain.from_iterable(values))
        if not _clean_items(values):
            return False
    return True


class InertMemo:
    """`inert` for one source's successive polls, walking only what is new.

    Connectors that track changes (the demo, watches, ETag caches) hand back the same
    objects for facts that did not change; a walk over all of them costs ~0.5 s a poll at
    2,000 services, so an item seen in the previous poll reuses its cleaned form. The memo
    keeps the previous poll alive, so an id it holds still names the same object.

    A connector that names its changes (`Observation.changed`) spares even the look-up of
    every item by id (~70 ms a poll at 10,000 services): while every item of a field is
    clean as it is, only the items it names as added are walked.
    """

    def __init__(self, *, trust_hints: bool = False) -> None:
        # A connector's `Observation.changed` hints let the pass skip every object they do
        # not name, so a hint that leaves a new object out would leave its text uncleaned:
        # they are taken only from the connectors shipped with the cockpit (the hub says
        # which). Another connector's poll is compared object by object, hints or not.
        self.trust_hints = trust_hints
        self._kept: Any = None
        self._cleaned: Any = None  # what _kept was made into
        # Per tuple field: the tuple last seen, its cleaned form, and id -> cleaned item (None
        # when the tuple is its own cleaned form and its changes were named: made on demand).
        # A field whose tuple object comes back unchanged is not looked at again.
        self._fields: dict[str, _Field] = {}
        self.delta: tuple[Any, dict[str, tuple[list[Any], list[Any]] | None]] | None = None
        """(the previous cleaned value, per tuple field: (cleaned items new in this one,
        items of the previous one gone from it)), by identity: what changed, found while
        cleaning, so the snapshot applies only that. None for a first value."""

    def __call__(self, value: T) -> T:
        if not is_dataclass(value):
            return inert(value)
        if value is self._kept:  # the connector had nothing new: no pass at all
            self.delta = (self._cleaned, {})
            return self._cleaned
        given = getattr(value, "changed", ())
        hints = {h.field: h for h in given} if self.trust_hints else {}
        changed: dict[str, Any] = {"changed": ()} if given else {}
        delta: dict[str, tuple[list[Any], list[Any]] | None] = {}
        fields: dict[str, _Field] = {}
        for name in _kind(type(value)):
            old = getattr(value, name)
            if type(old) is tuple:
                known = self._fields.get(name)
                if known is not None and known[0] is old:
                    fields[name] = known
                    new = known[1]
                    delta[name] = ([], [])
                else:
                    named = _named(old, known, hints.get(name))
                    if named is not None:
                        new, delta[name] = old, named
                        fields[name] = (old, old, None)
                    else:
                        ids: dict[int, Any] = {}
                        last = _ids(known) if known is not None else {}
                        new, delta[name] = self._items(old, last, ids)
                        fields[name] = (old, new, ids)
            else:
                new = _inert(old)
            if new is not old:
                changed[name] = new
        cleaned = replace(value, **changed) if changed else value  # type: ignore[type-var]
        first = self._kept is None or type(self._kept) is not type(value)
        self.delta = None if first else (self._cleaned, delta)
        self._kept, self._cleaned, self._fields = value, cleaned, fields
        return cleaned

    @staticmethod
    def _items(
        items: tuple[Any, ...], last: dict[int, Any], seen: dict[int, Any]
    ) -> tuple[tuple[Any, ...], tuple[list[Any], list[Any]] | None]:
        ids = list(map(id, items))
        out = list(map(last.get, ids))  # map over C calls: ~125,000 items a poll at 10,000
        fresh = list(compress(range(len(out)), map(is_, out, repeat(None))))  # C loops
        if len(fresh) > 1 and _clean_items([items[i] for i in fresh]):
            for i in fresh:  # a first poll's 30,000 deployments, checked in one pass
                out[i] = items[i]
        else:
            for i in fresh:
                out[i] = _inert(items[i])
        seen.update(zip(ids, out, strict=True))
        added = [out[i] for i in fresh]
        kept = len(seen) - len(added)  # items of the last poll still here (ids are unique)
        gone = [last[i] for i in last.keys() - seen.keys()] if kept != len(last) else []
        cleaned = tuple(out) if any(map(is_not, out, items)) else items
        if len(seen) != len(items):  # an object listed twice: no delta by identity
            return cleaned, None
        return cleaned, (added, gone)


# A field's state in InertMemo: (tuple seen, cleaned tuple, id -> cleaned item or None).
_Field = tuple[tuple[Any, ...], tuple[Any, ...], "dict[int, Any] | None"]


def _named(
    items: tuple[Any, ...], known: _Field | None, hint: Any
) -> tuple[list[Any], list[Any]] | None:
    """(added, removed) as the connector named them, when its hint holds for `items`: it is
    relative to the tuple seen last, the lengths add up, every item seen last was clean as it
    was, and so is every added one. Then `items` is clean as it is, with no pass over it."""
    if hint is None or known is None or hint.before is not known[0] or known[1] is not known[0]:
        return None
    added, removed = hint.added, hint.removed
    if len(items) != len(known[0]) + len(added) - len(removed):
        return None
    for item in added:
        if _inert(item) is not item:
            return None  # text to clean: the pass below makes the cleaned tuple
    return list(added), list(removed)


def _ids(known: _Field) -> dict[int, Any]:
    """id -> cleaned item of a field's last tuple (made now if its changes were named)."""
    if known[2] is not None:
        return known[2]
    return dict(zip(map(id, known[0]), known[1], strict=True))
