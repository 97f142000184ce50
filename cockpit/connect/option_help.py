"""What an options dataclass says about itself: each option's key, type, help and default.

`cockpit connectors` and its JSON Schema read it; named in `cockpit.connect.options` too.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any


@dataclasses.dataclass(frozen=True)
class OptionDoc:
    """One option of an options dataclass, as `cockpit connectors` documents it."""

    key: str
    type: Any  # the resolved type hint
    help: str  # from `field(metadata={"help": ...})`; "" when the author gave none
    default: object  # REQUIRED when the key must be given
    format: str = ""  # "url" for addresses (`metadata={"format": "url"}`)


REQUIRED: Any = dataclasses.MISSING


def option_docs(cls: type) -> list[OptionDoc]:
    """The documented fields of an options dataclass, in declaration order (mixins' last)."""
    hints = typing.get_type_hints(cls)
    docs = []
    # Keyword-only fields (mixins such as the network options) last, as in __init__:
    # a connector's own options read first.
    for f in sorted(dataclasses.fields(cls), key=lambda f: f.kw_only is True):
        if not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            default: object = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = REQUIRED
        meta = f.metadata
        docs.append(
            OptionDoc(f.name, hints[f.name], meta.get("help", ""), default, meta.get("format", ""))
        )
    return docs
