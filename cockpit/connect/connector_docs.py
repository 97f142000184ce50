"""`cockpit connectors`: each installed connector type, its options in words, and a JSON Schema.

The words and the schema are both read from the options dataclass itself (types, defaults
and `field(metadata={"help": ...})`), so what is printed cannot drift from what config
accepts. The schema (JSON Schema draft 2020-12) describes the `options:` mapping of one
connector entry in config.yaml, for editors and for CI.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import textwrap
import types
import typing
from typing import Any, Literal, get_args, get_origin

from cockpit.connect.option_help import REQUIRED, OptionDoc, option_docs
from cockpit.connect.options import Duration, Secret
from cockpit.sanitize import clean

DRAFT = "https://json-schema.org/draft/2020-12/schema"
HELP_WIDTH = 78

_SCALARS = {str: "string", int: "int", float: "number", bool: "bool"}
_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _optional(tp: Any) -> tuple[list[Any], bool]:
    """The alternatives of a type hint, and whether None is one of them."""
    origin = get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = get_args(tp)
        return [a for a in args if a is not type(None)], type(None) in args
    return [tp], False


def _noun(tp: Any) -> str:
    """What one item of a nested options dataclass is called: MetricOptions -> "metric"."""
    name = tp.__name__.removesuffix("Options").removesuffix("Config")
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _plural(word: str) -> str:
    if word.endswith("y") and not word.endswith(("ay", "ey", "oy")):
        return word[:-1] + "ies"
    return word + "s"


def type_text(tp: Any, fmt: str = "") -> str:
    """A type as an operator reads it: `secret`, `duration`, `list of strings`, `url`."""
    alternatives, _ = _optional(tp)
    if len(alternatives) > 1:
        return " or ".join(type_text(a) for a in alternatives)
    tp = alternatives[0]
    origin = get_origin(tp)
    if tp is Secret:
        return "secret"
    if tp is Duration:
        return "duration"
    if tp is str and fmt == "url":
        return "url"
    if tp in _SCALARS:
        return _SCALARS[tp]
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(tp))
    if origin in (list, tuple):
        (item, *_) = get_args(tp) or (Any,)
        return "list of " + _plural(type_text(item))
    if origin is dict:
        key, value = get_args(tp) or (str, Any)
        return f"mapping of {type_text(key)} to {type_text(value)}"
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _noun(tp)
    return "any"


def default_text(value: object) -> str:
    """A default as config would write it: 30m, true, [service, app], "" ."""
    if value is REQUIRED:
        return "required"
    if value is None:
        return "optional"
    return "default " + _yaml(value)


def _yaml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Duration):
        return value.readable()
    if isinstance(value, int):
        return str(value)  # a byte count reads 16777216, not 1.67772e+07
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return value if value.strip() == value and value else f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in value.items()) + "}"
    return "(see below)"  # a nested options object: its own keys are listed


def _nested(tp: Any) -> type | None:
    """The options dataclass a field holds (alone, in a list or behind None), if any."""
    for alt in _optional(tp)[0]:
        if get_origin(alt) in (list, tuple):
            alt = (get_args(alt) or (Any,))[0]
        if dataclasses.is_dataclass(alt) and isinstance(alt, type):
            return alt
    return None


def walk(cls: type, prefix: str = "") -> list[tuple[str, OptionDoc]]:
    """Every option of `cls` with its dotted key, nested ones after their parent
    (`canaries[].metrics[].query`)."""
    rows = []
    for doc in option_docs(cls):
        key = prefix + doc.key
        rows.append((key, doc))
        inner = _nested(doc.type)
        if inner is not None:
            many = any(get_origin(a) in (list, tuple) for a in _optional(doc.type)[0])
            rows.extend(walk(inner, key + ("[]." if many else ".")))
    return rows


def undocumented(cls: type) -> list[str]:
    """Dotted keys of the options that carry no help text (a test keeps this empty)."""
    return [key for key, doc in walk(cls) if not doc.help.strip()]


# JSON Schema -----------------------------------------------------------------------------


def schema_of(tp: Any, fmt: str = "") -> dict[str, Any]:
    """The JSON Schema of one type hint, as the options parser accepts values of it."""
    alternatives, nullable = _optional(tp)
    if len(alternatives) > 1 or nullable:
        parts = [schema_of(a, fmt) for a in alternatives]
        if nullable:
            parts.append({"type": "null"})
        return {"anyOf": parts}
    origin = get_origin(tp)
    if tp is Secret:
        return {"type": "string", "pattern": Secret._REF.pattern}
    if tp is Duration:
        return {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": Duration._RE.pattern},
            ]
        }
    if tp in _JSON_TYPES:
        out: dict[str, Any] = {"type": _JSON_TYPES[tp]}
        if fmt == "url":
            out["format"] = "uri"
        return out
    if origin is Literal:
        return {"enum": list(get_args(tp))}
    if origin in (list, tuple):
        (item, *_) = get_args(tp) or (Any,)
        return {"type": "array", "items": schema_of(item)}
    if origin is dict:
        _, value = get_args(tp) or (str, Any)
        return {"type": "object", "additionalProperties": schema_of(value)}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        obj = object_schema(tp)
        # A class with from_scalar also takes the short form ("owner/repo").
        return {"anyOf": [{"type": "string"}, obj]} if hasattr(tp, "from_scalar") else obj
    return {}


def _json_default(value: object) -> tuple[bool, object]:
    """(True, value as JSON) when the default can be written in config, else (False, None)."""
    if isinstance(value, Duration):
        return True, value.readable()
    if value is None or isinstance(value, str | int | float | bool):
        return True, value
    if isinstance(value, list | tuple | dict):
        items = value.values() if isinstance(value, dict) else value
        if all(_json_default(v)[0] for v in items):
            if isinstance(value, dict):
                return True, {k: _json_default(v)[1] for k, v in value.items()}
            return True, [_json_default(v)[1] for v in value]
    return False, None


def object_schema(cls: type) -> dict[str, Any]:
    """An options dataclass as a closed JSON object: unknown keys are refused, as in config."""
    properties: dict[str, Any] = {}
    required = []
    for doc in option_docs(cls):
        prop = schema_of(doc.type, doc.format)
        if doc.help:
            prop = {"description": doc.help, **prop}
        if doc.default is REQUIRED:
            required.append(doc.key)
        else:
            ok, default = _json_default(doc.default)
            if ok:
                prop["default"] = default
        properties[doc.key] = prop
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    out["additionalProperties"] = False
    return out


def options_schema(type_name: str, connector: Any) -> dict[str, Any]:
    """The schema of one connector type's `options:` mapping, standing on its own."""
    return {
        "$schema": DRAFT,
        "title": f"options of a {type_name!r} connector",
        "description": connector.DESCRIPTION or (connector.__doc__ or "").strip(),
        **object_schema(connector.Options),
    }


# The command -----------------------------------------------------------------------------


def describe(type_name: str, ep: Any) -> dict[str, Any]:
    """One row of `cockpit connectors`: where the type comes from and what it takes."""
    from cockpit.connect import plugins
    from cockpit.errors import PluginError

    info = plugins.info(ep)
    row: dict[str, Any] = {
        "type": type_name,
        "target": info.target,
        "distribution": info.distribution,
        "version": info.version,
    }
    try:
        cls = plugins.load(type_name, {type_name: ep})
    except PluginError as exc:
        row["error"] = str(exc)
        return row
    row["api_version"] = cls.API_VERSION
    row["capabilities"] = sorted(c.value for c in cls.CAPABILITIES)
    row["actions"] = sorted(a.value for a in cls.ACTIONS)
    row["description"] = cls.DESCRIPTION
    row["options"] = [
        {
            "key": key,
            "type": type_text(doc.type, doc.format),
            "default": default_text(doc.default),
            "help": doc.help,
        }
        for key, doc in walk(cls.Options)
    ]
    row["schema"] = options_schema(type_name, cls)
    return row


def text(row: dict[str, Any]) -> list[str]:
    """A row for a terminal. Plugin text is cleaned: a third party wrote it."""
    lines = [f"{row['type']}  ({row['distribution']} {row['version']}, {row['target']})"]
    if "error" in row:
        return [*lines, f"  BROKEN: {clean(row['error'])}"]
    if row["description"]:
        lines.append(f"  {clean(row['description'])}")
    lines.append(f"  capabilities: {', '.join(row['capabilities']) or '-'}")
    lines.append(f"  actions:      {', '.join(row['actions']) or '-'}")
    lines.append("  options:" if row["options"] else "  options:      none")
    for option in row["options"]:
        lines.append(f"    {option['key']}  ({option['type']}, {clean(option['default'])})")
        lines.extend(
            textwrap.wrap(
                clean(option["help"]) or "(no help given)",
                HELP_WIDTH,
                initial_indent="        ",
                subsequent_indent="        ",
            )
        )
    return lines


def run_connectors(args: argparse.Namespace) -> int:
    """`cockpit connectors [--json]`: exit 1 when an installed connector is broken."""
    from cockpit.connect import plugins
    from cockpit.status import write_json

    rows = [describe(name, ep) for name, ep in sorted(plugins.installed().items())]
    if args.json:
        write_json(rows, sys.stdout)
    else:
        for row in rows:
            print("\n".join(text(row)))
    return 1 if any("error" in row for row in rows) else 0
