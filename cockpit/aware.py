"""Domain facts carry timezone-aware times only: the one check their `__post_init__` runs."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

_DATETIME_FIELDS: dict[type, tuple[str, ...]] = {}


def check_aware(obj: object) -> None:
    """Refuse a naive datetime in any of a fact's fields."""
    cls = type(obj)
    names = _DATETIME_FIELDS.get(cls)
    if names is None:  # which fields can hold a datetime, worked out once per class
        names = tuple(f.name for f in fields(cls) if "datetime" in str(f.type))  # type: ignore[arg-type]
        _DATETIME_FIELDS[cls] = names
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError(f"{cls.__name__}.{name} must be timezone-aware")
