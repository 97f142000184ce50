"""Which fields of a dataclass may hold text, read from its annotations.

The cleaning pass (`cockpit.sanitize`) skips fields typed as numbers, times, enums or tuples
of them, and checks the fields typed `str` in one call; it learns this once per class. Most
annotations are simple (`str`, `int | None`, `tuple[Stage, ...]`, a class name) and are read
as written. A class with any other annotation has them all evaluated by
`typing.get_type_hints`, as before: evaluating every annotation of the first poll's classes
took ~5 ms of start-up.
"""

from __future__ import annotations

import builtins
import sys
import typing
from dataclasses import fields
from datetime import datetime
from enum import Enum
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

TEXTLESS, STR, WALK = "textless", "str", "walk"  # never text; typed `str`; may hold text
_MISSING = object()
_SEQUENCES = (tuple, frozenset)
# Generic forms whose arguments decide: left to get_type_hints when written so.
_EVALUATED = (typing.Union, typing.Optional, typing.Tuple, typing.FrozenSet, typing.Annotated)  # noqa: UP006


def field_kinds(cls: type) -> dict[str, str]:
    """Each field's kind, by name: TEXTLESS, STR or WALK (a field with no hint is walked)."""
    names = [f.name for f in fields(cls)]
    written = as_written(cls, names)
    if written is not None:
        return written
    hints = hints_of(cls)
    return {name: kind_of(hints[name]) if name in hints else WALK for name in names}


def kind_of(hint: Any) -> str:
    """The kind of a resolved field type."""
    if hint is str:
        return STR
    return TEXTLESS if textless(hint) else WALK


def textless(hint: Any) -> bool:
    """Whether a value of this type can never hold text."""
    if hint in (int, float, bool, datetime, type(None)):
        return True
    if isinstance(hint, type):
        return issubclass(hint, Enum)
    origin = get_origin(hint)
    if origin in (tuple, frozenset, UnionType, Union):
        return all(a is Ellipsis or textless(a) for a in get_args(hint))
    return False


def as_written(cls: type, names: list[str]) -> dict[str, str] | None:
    """The kinds read from the annotations' text, or None when one is not a simple form."""
    written: dict[str, tuple[Any, dict[str, Any]]] = {}
    for klass in reversed(cls.__mro__):  # a subclass's annotation wins, as in get_type_hints
        module = sys.modules.get(klass.__module__)
        space = vars(module) if module is not None else {}
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            written[name] = (annotation, space)
    kinds: dict[str, str] = {}
    for name in names:
        if name not in written:
            return None
        annotation, space = written[name]
        kind = _read(annotation, space) if isinstance(annotation, str) else kind_of(annotation)
        if kind is None:
            return None
        kinds[name] = kind
    return kinds


def _read(text: str, space: dict[str, Any]) -> str | None:
    parts = _split(text, "|")
    if len(parts) > 1:
        return _all([_read(part, space) for part in parts])
    text = text.strip()
    if text == "None":
        return TEXTLESS
    if text.endswith("]"):
        base, _, inner = text[:-1].partition("[")
        origin = _value(base.strip(), space)
        if origin in _SEQUENCES:
            args = _split(inner, ",")
            return _all([TEXTLESS if a.strip() == "..." else _read(a, space) for a in args])
        if isinstance(origin, type) and origin not in _EVALUATED:
            return WALK  # a mapping, a list, type[...]: its values may hold text
        return None
    value = _value(text, space)
    if value is _MISSING:
        return WALK  # not loaded (named lazily, or under TYPE_CHECKING): walked, as Unloaded
    if isinstance(value, str) or value in _EVALUATED:
        return None  # an alias written as text, or a bare Optional
    return kind_of(value)


def _all(kinds: list[str | None]) -> str | None:
    if None in kinds:
        return None
    return TEXTLESS if all(kind == TEXTLESS for kind in kinds) else WALK


def _value(name: str, space: dict[str, Any]) -> Any:
    """What a (dotted) name means in the module, or _MISSING."""
    head, *rest = name.split(".")
    if not head.isidentifier():
        return _MISSING
    value = space.get(head, vars(builtins).get(head, _MISSING))
    for attr in rest:
        value = getattr(value, attr, _MISSING)
    return value


def _split(text: str, separator: str) -> list[str]:
    """`text` split at `separator` outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


class Unloaded:
    """Stands for a name an annotation uses that its module has not loaded (a class named
    under TYPE_CHECKING or re-exported lazily, as cockpit.model does for the facts that
    start-up never makes): not known to be textless, so such a field is walked."""


class _Lenient(dict[str, Any]):
    """Annotation locals that answer `Unloaded` for a name neither the class's modules nor
    the builtins define (eval looks here first, so a defined name must raise KeyError)."""

    def __init__(self, cls: type) -> None:
        super().__init__()
        self._spaces = [
            vars(sys.modules[c.__module__]) for c in cls.__mro__ if c.__module__ in sys.modules
        ]

    def __missing__(self, name: str) -> Any:
        if name in vars(builtins) or any(name in space for space in self._spaces):
            raise KeyError(name)
        return Unloaded


def hints_of(cls: type) -> dict[str, Any]:
    """The class's resolved field types; when one names a class not loaded, the others are
    still resolved and that one is `Unloaded` (one lazy name used to cost every hint)."""
    try:
        return get_type_hints(cls)
    except NameError:
        pass
    try:
        return get_type_hints(cls, localns=_Lenient(cls))
    except Exception:  # an annotation that does not evaluate at all: walk every field
        return {}
