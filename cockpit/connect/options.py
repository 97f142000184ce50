"""Typed option models: plain dataclasses validated from YAML data with precise errors.

A connector declares `Options` as a dataclass; config is checked against its fields
(unknown keys refused with a "did you mean", wrong types named, required ones demanded).
Hand-rolled rather than pydantic: the rules we need are few, every error must point at a
YAML line, and importing pydantic would cost more start-up time than the whole check.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import os
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin

from cockpit.connect.option_values import Duration, Secret
from cockpit.errors import ConfigError, ConfigProblems

T = TypeVar("T")
Path = tuple[str | int, ...]


class LineMap:
    """Where each value of a parsed YAML document came from (path -> 1-based line)."""

    def __init__(self, file: str = "", lines: Mapping[Path, int] | None = None) -> None:
        self.file = file
        self._lines = dict(lines or {})

    def line(self, path: Path) -> int | None:
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return self._lines.get((), None)

    def error(self, path: Path, message: str) -> ConfigError:
        return ConfigError(message, file=self.file, line=self.line(path), field=dotted(path))


def dotted(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(value: str, path: Path, lines: LineMap, env: Mapping[str, str]) -> str:
    """Expand `${VAR}` and `${VAR:-default}`; an unset variable without default is an error."""

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise lines.error(path, f"environment variable {name} is not set (used as ${{{name}}})")

    return _ENV_RE.sub(sub, value) if "${" in value else value


def _type_name(tp: object) -> str:
    if tp is Duration:
        return "a duration (e.g. 30s)"
    if tp is Secret:
        return "a secret reference (env:VAR or keyring:service/name)"
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    if tp in names:
        return names[tp]
    origin = get_origin(tp)
    if origin is list or origin is tuple:
        return "a list"
    if origin is dict or (dataclasses.is_dataclass(tp)):
        return "a mapping"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    return getattr(tp, "__name__", str(tp))


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class Problems:
    """Every problem of a configuration, collected in one pass so a check names them all."""

    def __init__(self) -> None:
        self.errors: list[ConfigError] = []

    def add(self, error: ConfigError) -> None:
        self.errors.append(error)

    def about(self, field: str) -> bool:
        """Whether a problem lies in `field` or under it (later checks that read it would
        only repeat the problem in other words)."""
        return any(
            e.field == field or e.field.startswith((field + ".", field + "[")) for e in self.errors
        )

    def raise_if_any(self) -> None:
        """ConfigProblems naming them all in file order, if there are any."""
        if self.errors:
            raise ConfigProblems(sorted(self.errors, key=lambda e: e.line or 0))


class _Dropped(Exception):
    """A value whose problems are already collected: its parent carries on without it."""


class _Parser:
    def __init__(
        self, lines: LineMap, env: Mapping[str, str], problems: Problems | None = None
    ) -> None:
        self.lines = lines
        self.env = env
        self.problems = problems  # None: the first problem is raised
        self.reported = 0

    def report(self, problem: ConfigError) -> None:
        if self.problems is None:
            raise problem
        self.problems.add(problem)
        self.reported += 1

    def alternative(self, tp: Any, value: object, path: Path) -> Any:
        """Try one member of a union: its first problem, not collected, decides."""
        problems, self.problems = self.problems, None
        try:
            return self.convert(tp, value, path)
        finally:
            self.problems = problems

    def convert(self, tp: Any, value: object, path: Path) -> Any:
        origin = get_origin(tp)
        if origin is typing.Union or origin is types.UnionType:
            args = get_args(tp)
            if value is None and type(None) in args:
                return None
            present = [a for a in args if a is not type(None)]
            if len(present) == 1:  # `X | None` given a value: it is an X
                return self.convert(present[0], value, path)
            errors = []
            for arg in args:
                if arg is type(None):
                    continue
                try:
                    return self.alternative(arg, value, path)
                except ConfigError as exc:
                    # A list given where a list may go: its own error says what is wrong in it.
                    if isinstance(value, list) and get_origin(arg) in (list, tuple):
                        raise
                    errors.append(exc)
            if len(errors) == 1:
                raise errors[0]
            raise self.lines.error(
                path,
                "expected "
                + " or ".join(_type_name(a) for a in args if a is not type(None))
                + f", got {_describe(value)}",
            )
        if isinstance(value, str) and "${" in value:
            value = interpolate(value, path, self.lines, self.env)
            if tp is not str and tp is not Secret:
                # A whole scalar from the environment is read as YAML would read it.
                import yaml

                with contextlib.suppress(yaml.YAMLError):
                    value = yaml.safe_load(value) if value.strip() else value
        if tp is Any or tp is object:
            return value
        if origin is Literal:
            if value not in get_args(tp):
                hint = _suggest(str(value), [str(a) for a in get_args(tp)])
                raise self.lines.error(
                    path, f"expected {_type_name(tp)}, got {_describe(value)}{hint}"
                )
            return value
        if origin is list or origin is tuple:
            if not isinstance(value, list):
                raise self.lines.error(path, f"expected a list, got {_describe(value)}")
            (item_tp, *_) = get_args(tp) or (Any,)
            items = []
            for i, v in enumerate(value):
                try:
                    items.append(self.convert(item_tp, v, (*path, i)))
                except ConfigError as exc:
                    self.report(exc)
                except _Dropped:
                    pass  # its problems are collected; the other items are still checked
            return tuple(items) if origin is tuple else items
        if origin is dict:
            if not isinstance(value, dict):
                raise self.lines.error(path, f"expected a mapping, got {_describe(value)}")
            key_tp, val_tp = get_args(tp) or (str, Any)
            out = {}
            for k, v in value.items():
                try:
                    out[self.convert(key_tp, k, (*path, str(k)))] = self.convert(
                        val_tp, v, (*path, str(k))
                    )
                except ConfigError as exc:
                    self.report(exc)
                except _Dropped:
                    pass
            return out
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            from_scalar = getattr(tp, "from_scalar", None)
            if from_scalar is not None and not isinstance(value, dict):
                try:
                    return from_scalar(value)
                except (TypeError, ValueError) as exc:
                    raise self.lines.error(path, str(exc)) from None
            return self.dataclass(tp, value, path)
        return self.scalar(tp, value, path)

    def scalar(self, tp: Any, value: object, path: Path) -> Any:
        try:
            if tp is Duration:
                return Duration.parse(value)
            if tp is Secret:
                if not isinstance(value, str):
                    raise ValueError(f"expected {_type_name(Secret)}, got {_describe(value)}")
                return Secret(value)
        except ValueError as exc:
            raise self.lines.error(path, str(exc)) from None
        if tp is bool:
            if isinstance(value, bool):
                return value
        elif tp is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        elif tp is float:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
        elif tp is str:
            if isinstance(value, str):
                return value
            if isinstance(value, int | float) and not isinstance(value, bool):
                return str(value)
        elif isinstance(tp, type) and isinstance(value, tp):
            return value
        raise self.lines.error(path, f"expected {_type_name(tp)}, got {_describe(value)}")

    def dataclass(self, cls: type[T], value: object, path: Path) -> T:
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.lines.error(path, f"expected a mapping, got {_describe(value)}")
        hints = typing.get_type_hints(cls)
        known = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
        aliases = {name.replace("_", "-"): name for name in known}
        kwargs: dict[str, Any] = {}
        given = set()
        dropped = False  # a required key in error: this object cannot be built
        reported = self.reported
        for raw_key, raw in value.items():
            key = str(raw_key)
            name = key if key in known else aliases.get(key)
            if name is None:
                # Named, then left out: the keys that are known can still be checked.
                hint = _suggest(key, list(known))
                self.report(self.lines.error((*path, key), f"unknown key {key!r}{hint}"))
                continue
            given.add(name)
            try:
                kwargs[name] = self.convert(hints[name], raw, (*path, key))
            except ConfigError as exc:
                self.report(exc)
                dropped = dropped or _required(known[name])
            except _Dropped:
                dropped = dropped or _required(known[name])
        for name, f in known.items():
            if _required(f) and name not in given:
                self.report(self.lines.error(path, f"missing required key {name!r}"))
                dropped = True
        if dropped:
            raise _Dropped
        # A key in error stands at its default, so the object (and its place in a list)
        # stays for the checks that follow; its own cross-checks would misread that default.
        try:
            obj = cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise self.lines.error(path, str(exc)) from None
        validate = getattr(obj, "validate", None)
        if validate is not None and self.reported == reported:
            try:
                validate()
            except ValueError as exc:
                raise self.lines.error(path, str(exc)) from None
        return obj


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    if choices:
        return "; expected one of: " + ", ".join(sorted(choices))
    return ""


def parse(
    cls: type[T],
    data: object,
    *,
    path: Path = (),
    lines: LineMap | None = None,
    env: Mapping[str, str] | None = None,
) -> T:
    """Build `cls` (a dataclass) from YAML data, or raise ConfigError with file:line: field."""
    parser = _Parser(lines or LineMap(), os.environ if env is None else env)
    return parser.dataclass(cls, data, path)


def parse_all(
    cls: type[T],
    data: object,
    problems: Problems,
    *,
    path: Path = (),
    lines: LineMap | None = None,
    env: Mapping[str, str] | None = None,
) -> T | None:
    """Like `parse`, but every problem goes to `problems`; None when `cls` cannot be built."""
    parser = _Parser(lines or LineMap(), os.environ if env is None else env, problems)
    try:
        return parser.dataclass(cls, data, path)
    except ConfigError as exc:
        problems.add(exc)
    except _Dropped:
        pass
    return None


def secrets_of(obj: object) -> list[Secret]:
    """Every Secret reachable from an options object (to resolve them all at start)."""
    found: list[Secret] = []

    def walk(value: object) -> None:
        if isinstance(value, Secret):
            found.append(value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                walk(getattr(value, f.name))
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)

    walk(obj)
    return found
