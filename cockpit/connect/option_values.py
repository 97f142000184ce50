"""The value types of config: durations written as "30s" or "5m", and secret references.

Both live in `cockpit.connect.options` for connector authors (`from cockpit.connect.options import Secret`);
they are here so the parser's module stays about parsing.
"""

from __future__ import annotations

import os
import re
import typing
from collections.abc import Mapping


class Duration(float):
    """Seconds, written in config as 30, 2.5, "500ms", "30s", "5m", "1h" or "1d"."""

    _UNITS: typing.ClassVar[dict[str, float]] = {
        "ms": 0.001,
        "s": 1,
        "m": 60,
        "h": 3600,
        "d": 86400,
    }
    _RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")

    @classmethod
    def parse(cls, value: object) -> Duration:
        if isinstance(value, bool):
            raise ValueError("expected a duration like 30s, 5m or 1h")
        if isinstance(value, int | float):
            if value < 0:
                raise ValueError("a duration cannot be negative")
            return cls(value)
        if isinstance(value, str):
            m = cls._RE.match(value)
            if m:
                return cls(float(m.group(1)) * cls._UNITS[m.group(2) or "s"])
        raise ValueError(f"expected a duration like 30s, 5m or 1h, got {value!r}")

    def readable(self) -> str:
        """As config would write it, in the largest exact unit: 1800.0 -> "30m"."""
        for unit in ("d", "h", "m", "s"):
            count = self / self._UNITS[unit]
            if count >= 1 and count == int(count):
                return f"{int(count)}{unit}"
        return f"{self * 1000:g}ms" if self else "0s"


class Secret:
    """A reference to a secret (`env:VAR` or `keyring:service/name`), never the value.

    The value is looked up by `reveal()` at start; `str()` and `repr()` never show it, so
    it cannot leak into logs, audit records or error messages by accident.
    """

    _REF = re.compile(r"^(env:[A-Za-z_][A-Za-z0-9_]*|keyring:[^/\s]+/\S+)$")

    def __init__(self, ref: str) -> None:
        if not self._REF.match(ref):
            raise ValueError(
                "secrets are written as references, 'env:VAR' or 'keyring:service/name', "
                "never as the value itself"
            )
        self.ref = ref
        self._value: str | None = None

    def __repr__(self) -> str:
        return f"Secret({self.ref!r})"

    __str__ = __repr__

    def resolve(self, env: Mapping[str, str] | None = None) -> None:
        """Look the secret up now; raises ValueError naming the reference, not the value."""
        kind, _, rest = self.ref.partition(":")
        if kind == "env":
            value = (os.environ if env is None else env).get(rest)
            if not value:
                raise ValueError(f"environment variable {rest} is not set")
        else:
            service, _, name = rest.partition("/")
            try:
                import keyring
                import keyring.errors

                value = keyring.get_password(service, name)
            except Exception as exc:  # keyring backends raise many kinds
                raise ValueError(
                    f"keyring lookup of {service}/{name} failed ({type(exc).__name__}); "
                    "over SSH there is often no keyring: use an env: reference instead"
                ) from None
            if not value:
                raise ValueError(f"keyring has no secret {service}/{name}")
        self._value = value

    def reveal(self) -> str:
        if self._value is None:
            self.resolve()
        assert self._value is not None
        return self._value
