"""Connector secrets at load time: resolve each reference, and name where a failing one is."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from cockpit.connect import options as opt
from cockpit.connect.options import LineMap, Secret
from cockpit.errors import ConfigError


def resolve_secrets_in(
    options: object,
    lines: LineMap,
    path: opt.Path,
    env: Mapping[str, str],
    problems: opt.Problems,
) -> None:
    """Resolve every secret in a connector's parsed `options`; each one that cannot be is a
    problem named with the file, line and field of its reference (never its value)."""
    for secret in opt.secrets_of(options):
        try:
            secret.resolve(env)
        except ValueError as exc:
            problems.add(
                ConfigError(
                    f"secret {secret.ref} cannot be resolved: {exc}",
                    file=lines.file,
                    line=_secret_line(secret, options, lines, path),
                    field=_secret_field(secret, options, path),
                )
            )


def _find_path(target: Secret, value: object, path: opt.Path) -> opt.Path | None:
    if value is target:
        return path
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            found = _find_path(target, getattr(value, f.name), (*path, f.name))
            if found:
                return found
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            found = _find_path(target, v, (*path, i))
            if found:
                return found
    elif isinstance(value, dict):
        for k, v in value.items():
            found = _find_path(target, v, (*path, str(k)))
            if found:
                return found
    return None


def _secret_line(secret: Secret, options: object, lines: LineMap, path: opt.Path) -> int | None:
    found = _find_path(secret, options, path)
    return lines.line(found) if found else lines.line(path)


def _secret_field(secret: Secret, options: object, path: opt.Path) -> str:
    found = _find_path(secret, options, path)
    return opt.dotted(found or path)
