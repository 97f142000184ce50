"""The config file's small records that running settings keep too: environments, connectors,
the UI and the audit log's place.

Apart from the sections (policy, identities, retention, ...) so that the built-in demo's
settings are made from these alone: `cockpit` with no config file builds its sections when
something first reads them, after the first frame (cockpit/config_later.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cockpit.connect.options import Duration
from cockpit.connector import DEFAULT_MAX_RESPONSE_BYTES
from cockpit.keys import VIEWS

DEFAULT_ENVIRONMENTS = ("dev", "staging", "prod")


@dataclass
class EnvironmentConfig:
    """An `environments:` entry: its name, whether production, whether actions may touch it."""

    name: str
    production: bool | None = None  # default: names like prod/production are production
    read_only: bool = False

    @classmethod
    def from_scalar(cls, value: object) -> EnvironmentConfig:
        if not isinstance(value, str):
            raise ValueError("an environment is a name or a mapping with 'name'")
        return cls(name=value)


@dataclass
class ConnectorConfig:
    """A `connectors:` entry's common keys; the type's own options are checked by the connector."""

    name: str
    type: str
    interval: Duration = Duration(10)
    timeout: Duration = Duration(10)
    stale_after: Duration | None = None  # default: three missed intervals
    # Bodies past this are refused as they stream: a broken server cannot exhaust memory.
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    enabled: bool = True
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class UiConfig:
    """The `ui:` section: the theme and the view the cockpit starts in."""

    theme: str = "textual-dark"
    start_view: str = "overview"

    def __post_init__(self) -> None:
        # Refused at load, as every key is: an unknown view used to start the overview
        # unsaid, and an unknown theme stopped the cockpit with a traceback at start.
        problems = []
        views = [name for name, _, _ in VIEWS]
        if self.start_view not in views:
            problems.append(
                f"start_view: no view {self.start_view!r}; expected one of: {', '.join(views)}"
            )
        if self.theme != "textual-dark":
            from textual.theme import BUILTIN_THEMES  # loaded only when a theme is named

            if self.theme not in BUILTIN_THEMES:
                problems.append(
                    f"theme: no theme {self.theme!r}; expected one of: {', '.join(sorted(BUILTIN_THEMES))}"
                )
        if problems:
            raise ValueError("; ".join(problems))


@dataclass
class AuditConfig:
    """The `audit:` section: where the audit log lives."""

    path: str | None = None  # default: audit.sqlite3 in the user data directory
