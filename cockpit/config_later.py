"""Settings sections built when first read, so that plain `cockpit` draws its first frame
without loading what only actions, the controller or the team store use.

A `Section` field of `Settings` holds either a section (read from a file, or given) or a
`Later`: a built-in one, the defaults or the built-in demo's, that is built the first time
the field is read. Reading it, `dataclasses.replace`, `==` and `repr` all see the section
itself; `Settings.given(name)` tells the two apart for the few first-frame questions
(change windows, gated webhooks) that a built-in section always answers "none".
A file's sections are never `Later`: they are all parsed and checked when it is loaded.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class Later(Generic[T]):
    """A built-in section, built when first read (never one read from a file)."""

    __slots__ = ("build",)

    def __init__(self, build: Callable[[], T]) -> None:
        self.build = build


def _new(target: str) -> Callable[[], Any]:
    def build() -> Any:
        module, _, name = target.partition(":")
        return getattr(importlib.import_module(module), name)()

    return build


class Section(Generic[T]):
    """A dataclass field whose default is `target`'s class with its defaults, built when
    first read; a `Later` given for it is built then too."""

    def __init__(self, target: str) -> None:
        self.default: Later[T] = Later(_new(target))
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> Later[T]: ...

    @overload
    def __get__(self, obj: object, owner: type) -> T: ...

    def __get__(self, obj: object | None, owner: type) -> T | Later[T]:
        if obj is None:  # the dataclass asks for the field's default
            return self.default
        value = obj.__dict__[self.name]
        if isinstance(value, Later):
            value = value.build()
            obj.__dict__[self.name] = value  # frozen to callers; built once
        return value

    def __set__(self, obj: object, value: T | Later[T]) -> None:
        obj.__dict__[self.name] = value

    def given(self, obj: object) -> bool:
        """Whether `obj` holds a section for this field (read, given or built already)."""
        return not isinstance(obj.__dict__[self.name], Later)
