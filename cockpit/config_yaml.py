"""Reading the config file's YAML, remembering the line of every key and list item (for
problems named `file:line: field`). Shared with the team policy documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cockpit.connect import options as opt
from cockpit.connect.options import LineMap
from cockpit.errors import ConfigError


def read_yaml(path: Path) -> tuple[Any, LineMap]:
    """Parse a YAML file, remembering the line of every key and list item."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=name) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=name) from None
    return parse_yaml_text(text, name)


def parse_yaml_text(text: str, name: str) -> tuple[Any, LineMap]:
    """YAML `text` (read from `name`) parsed, remembering the line of every key and item."""
    import yaml  # only when there is a file: the demo starts without it

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(
            f"YAML syntax error: {problem}",
            file=name,
            line=mark.line + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", file=name) from None
    lines: dict[opt.Path, int] = {}

    def walk(n: Any, path: opt.Path) -> None:
        if n is None:
            return
        lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            for key_node, value_node in n.value:
                child = (*path, str(key_node.value))
                walk(value_node, child)
                lines[child] = key_node.start_mark.line + 1
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, (*path, i))

    walk(node, ())
    return data, LineMap(name, lines)
