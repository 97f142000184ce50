"""Frozen model objects made directly: the demo makes ~100,000 of them at 10,000 services.

A frozen, slotted dataclass's generated `__init__` sets each slot through
`object.__setattr__` and parses keywords, then its `__post_init__` looks up and checks each
datetime field (`cockpit.aware.check_aware`): ~3x the cost of setting the slots. `maker`
writes, once per class, a positional constructor that sets the slots directly and makes
the same check inline: a naive datetime is refused as the class refuses it, and the object
is equal to the one the class's own constructor makes (tests/unit/test_demo_make.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, fields, is_dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


@cache  # one per class: the modules that make the same class share it (one exec each)
def maker(cls: type[T]) -> Callable[..., T]:
    """`cls`'s constructor taking every field positionally, in declaration order.

    Only for frozen, slotted dataclasses whose `__post_init__`, if any, does nothing but
    `check_aware(self)` (the model's classes): anything else would be skipped.
    """
    params = getattr(cls, "__dataclass_params__", None)
    if not (is_dataclass(cls) and params is not None and params.frozen):
        raise TypeError(f"{cls.__name__} is not a frozen dataclass")
    if "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} has no slots")
    post = getattr(cls, "__post_init__", None)
    if post is not None and post.__code__.co_names != ("check_aware",):
        raise TypeError(f"{cls.__name__}.__post_init__ does more than check_aware")
    names = [f.name for f in fields(cls)]
    timed = [f.name for f in fields(cls) if "datetime" in str(f.type)]
    defaults = {f.name: f.default for f in fields(cls) if f.default is not MISSING}
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_datetime": datetime}
    scope.update({f"_d_{n}": v for n, v in defaults.items()})
    scope.update({f"_set_{n}": cls.__dict__[n].__set__ for n in names})
    args = ", ".join(f"{n}=_d_{n}" if n in defaults else n for n in names)
    lines = [f"def make({args}):"]
    for n in timed:
        lines.append(f"    if isinstance({n}, _datetime) and {n}.tzinfo is None:")
        lines.append(f"        raise ValueError('{cls.__name__}.{n} must be timezone-aware')")
    lines.append("    obj = _new(_cls)")
    lines.extend(f"    _set_{n}(obj, {n})" for n in names)
    lines.append("    return obj")
    exec("\n".join(lines), scope)
    make: Callable[..., T] = scope["make"]
    make.__qualname__ = make.__name__ = f"make_{cls.__name__}"
    return make
