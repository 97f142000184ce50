"""The small exception tree: connector failures the UI can name, and config errors."""

from __future__ import annotations

from collections.abc import Sequence


class CockpitError(Exception):
    """Base of every error the cockpit raises on purpose."""


class ConnectorError(CockpitError):
    """A connector could not do what was asked. The message is safe to show."""


class Unauthorized(ConnectorError):
    """The credentials were refused (401/403 without rate-limit headers)."""


class RateLimited(ConnectorError):
    """The remote asked us to slow down; retry no sooner than `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unreachable(ConnectorError):
    """Network failure, timeout, DNS, TLS or a 5xx: the remote did not answer usefully."""


class Rejected(ConnectorError):
    """The remote understood the request and refused it (404, 409, 422, a failed action)."""


class ConfigError(CockpitError):
    """Configuration that cannot be used. Carries where: file, line and field."""

    def __init__(
        self, message: str, *, file: str = "", line: int | None = None, field: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.field = field

    def __str__(self) -> str:
        where = self.file or "config"
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f": {self.field}"
        return f"{where}: {self.message}"

    @property
    def problems(self) -> tuple[ConfigError, ...]:
        """Each problem on its own (one here; several in ConfigProblems)."""
        return (self,)


class ConfigProblems(ConfigError):
    """Several configuration problems found in one pass, in file order; the first is the
    one `message`, `file`, `line` and `field` describe."""

    def __init__(self, problems: Sequence[ConfigError]) -> None:
        first = problems[0]
        super().__init__(first.message, file=first.file, line=first.line, field=first.field)
        self._problems = tuple(problems)

    @property
    def problems(self) -> tuple[ConfigError, ...]:
        return self._problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self._problems)


class PluginError(CockpitError):
    """A connector plugin failed to import or does not honour the contract."""
