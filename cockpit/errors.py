"""The small exception tree: connector failures the UI can name, and config errors."""

from __future__ import annotations


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


class PluginError(CockpitError):
    """A connector plugin failed to import or does not honour the contract."""
