"""Options of the Prometheus connector, and the PromQL templates its metrics are written in.

A template is PromQL with placeholders in single braces, `{service}`, `{selector}`...
PromQL's own braces never hold a bare identifier (`{job="x"}`, `{__name__=~"..."}`), so
`{name}` is unambiguous and the rest of the query is left exactly as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from cockpit.connect.http_tls import NetworkOptions
from cockpit.connect.options import Duration, Secret

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
VERSION_KEYS = frozenset({"version", "baseline_version", "canary_version"})
SELECTOR_KEYS = frozenset({"service", "environment"}) | VERSION_KEYS
QUERY_KEYS = SELECTOR_KEYS | {"selector"}
BURN_KEYS = QUERY_KEYS | {"window"}
# Every window the SRE workbook's burn-rate pairs use: 1h/5m, 6h/30m (page), 3d/6h (ticket).
BURN_WINDOWS = ("5m", "30m", "1h", "6h", "3d")
TIMEOUT = Duration(5)
LOOKBACK = Duration(30 * 60)
MAX_WINDOW = Duration(6 * 3600)


def placeholders(template: str) -> set[str]:
    return set(PLACEHOLDER.findall(template))


def check_template(template: str, allowed: frozenset[str]) -> None:
    unknown = placeholders(template) - allowed
    if unknown:
        names = ", ".join("{" + n + "}" for n in sorted(unknown))
        known = ", ".join("{" + n + "}" for n in sorted(allowed))
        raise ValueError(f"unknown placeholder {names} in {template!r}; known: {known}")


def quote(value: str) -> str:
    """A value made safe inside a PromQL double-quoted string (versions come from outside)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(template: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def range_duration(seconds: float) -> str:
    """Whole seconds as a PromQL range duration in its largest exact unit: 300 -> 5m."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


@dataclass
class MetricOptions:
    """One canary metric: a PromQL template rendered once for the baseline, once for the canary."""

    name: str = field(
        metadata={"help": "The metric's name, shown in the canary view and the verdict."}
    )
    query: str = field(
        metadata={
            "help": "A PromQL template run once for the baseline and once for the canary; it must use {selector} or {version}."
        }
    )
    unit: str = field(default="", metadata={"help": "The unit shown beside values (ms, %, req/s)."})
    direction: Literal["increase", "decrease", "either"] = field(
        default="increase",
        metadata={
            "help": "Which way is bad: a canary value that increases, decreases, or moves either way."
        },
    )
    critical: bool = field(
        default=False,
        metadata={"help": "A failure of this metric fails the whole canary, whatever the score."},
    )
    group: str = field(
        default="default",
        metadata={"help": "The group the metric counts in; the judge's score weighs groups."},
    )
    weight: float | None = field(
        default=None,
        metadata={
            "help": "The group's weight in the judge's score (0 to 100); default: groups weigh the same."
        },
    )
    tolerance: float | None = field(
        default=None,
        metadata={
            "help": (
                "How far the canary may move from the baseline before it as "
                "counts, a fraction (0.1 for 10 %); default: the judge's 0.25."
            )
        },
    )
    min: float | None = field(
        default=None, metadata={"help": "An absolute floor for the canary's values."}
    )
    max: float | None = field(
        default=None, metadata={"help": "An absolute ceiling for the canary's values."}
    )

    def validate(self) -> None:
        check_template(self.query, QUERY_KEYS)
        if not placeholders(self.query) & {"selector", "version"}:
            # Without either, baseline and canary would run the very same query.
            raise ValueError(
                f"metric {self.name!r}: the query must tell baseline from canary with "
                "{selector} or {version}"
            )
        if self.weight is not None and not 0 <= self.weight <= 100:
            raise ValueError(f"metric {self.name!r}: weight must be between 0 and 100")
        if self.tolerance is not None and self.tolerance < 0:
            raise ValueError(f"metric {self.name!r}: tolerance cannot be negative")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"metric {self.name!r}: min is above max")


@dataclass
class BurnOptions:
    """The canary's SLO error budget: error and request counts over trailing windows."""

    slo: float = field(metadata={"help": "The objective as a fraction: 0.999 for 99.9 %."})
    errors: str = field(
        metadata={"help": "PromQL template: the canary's failed events over [{window}]."}
    )
    total: str = field(
        metadata={"help": "PromQL template: all the canary's events over [{window}]."}
    )
    windows: list[Duration] = field(
        default_factory=lambda: [Duration.parse(w) for w in BURN_WINDOWS],
        metadata={
            "help": "The trailing windows the burn rate is read over (the SRE workbook's pairs)."
        },
    )

    def validate(self) -> None:
        if not 0 < self.slo < 1:
            raise ValueError(
                f"slo must be a fraction between 0 and 1 (0.999 for 99.9 %), got {self.slo:g}"
            )
        for key in ("errors", "total"):
            template = getattr(self, key)
            try:
                check_template(template, BURN_KEYS)
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
            if "window" not in placeholders(template):
                # Without it every window would ask the same question.
                raise ValueError(f"{key}: the query must use {{window}}, e.g. [{{window}}]")
        if not self.windows:
            raise ValueError("windows: give at least one window, or leave it out")
        for w in self.windows:
            if w < 1 or w != int(w):
                raise ValueError(f"windows: {w:g}s is not a whole number of seconds")
        if len(set(self.windows)) != len(self.windows):
            raise ValueError("windows: each window may be given only once")


@dataclass
class CanaryOptions:
    """Where one service's canary is measured, and with which metrics."""

    service: str = field(metadata={"help": "The cockpit service whose canary this is."})
    environment: str = field(metadata={"help": "The environment the canary runs in."})
    metrics: list[MetricOptions] = field(
        metadata={"help": "The metrics the judge compares, baseline against canary."}
    )
    baseline_selector: str = field(
        default='track="baseline"',
        metadata={
            "help": "PromQL label matchers that select the baseline's series, put in place of {selector}."
        },
    )
    canary_selector: str = field(
        default='track="canary"',
        metadata={
            "help": "PromQL label matchers that select the canary's series, put in place of {selector}."
        },
    )
    burn: BurnOptions | None = field(
        default=None,
        metadata={"help": "The canary's SLO error-budget burn, read over trailing windows."},
    )

    def validate(self) -> None:
        check_template(self.baseline_selector, SELECTOR_KEYS)
        check_template(self.canary_selector, SELECTOR_KEYS)
        if not self.metrics:
            raise ValueError(f"{self.service}/{self.environment}: no metrics configured")
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.service}/{self.environment}: metric names must be distinct")
        weights: dict[str, float] = {}
        for m in self.metrics:
            if m.weight is None:
                continue
            if weights.setdefault(m.group, m.weight) != m.weight:
                raise ValueError(
                    f"{self.service}/{self.environment}: metrics of group {m.group!r} "
                    "give different weights; a weight belongs to the group"
                )

    def queries(self, metric: MetricOptions, baseline: str, canary: str) -> tuple[str, str]:
        """The metric's PromQL for the baseline and for the canary, given their versions."""
        common = self._values(baseline, canary)
        rendered = []
        for selector, version in (
            (self.baseline_selector, baseline),
            (self.canary_selector, canary),
        ):
            values = {**common, "version": quote(version)}
            values["selector"] = render(selector, values)
            rendered.append(render(metric.query, values))
        return rendered[0], rendered[1]

    def burn_queries(
        self, burn: BurnOptions, window: float, baseline: str, canary: str
    ) -> tuple[str, str]:
        """The errors and total PromQL of one window, over the canary's own series."""
        values = {**self._values(baseline, canary), "version": quote(canary)}
        values["selector"] = render(self.canary_selector, values)
        values["window"] = range_duration(window)
        return render(burn.errors, values), render(burn.total, values)

    def _values(self, baseline: str, canary: str) -> dict[str, str]:
        return {
            "service": quote(self.service),
            "environment": quote(self.environment),
            "baseline_version": quote(baseline),
            "canary_version": quote(canary),
        }

    def uses_versions(self, metric: MetricOptions) -> bool:
        """Whether the metric's queries need the canary's versions (a known canary)."""
        used = placeholders(metric.query)
        if "selector" in used:
            used |= placeholders(self.baseline_selector) | placeholders(self.canary_selector)
        return bool(used & VERSION_KEYS)

    def burn_uses_versions(self, burn: BurnOptions) -> bool:
        """Whether the burn queries need the canary's versions (they use only its selector)."""
        used = placeholders(burn.errors) | placeholders(burn.total)
        if "selector" in used:
            used |= placeholders(self.canary_selector)
        return bool(used & VERSION_KEYS)


@dataclass
class PrometheusOptions(NetworkOptions):
    """Connection, auth and time window of the Prometheus connector, and the canaries."""

    url: str = field(
        metadata={
            "help": "The Prometheus server's address, e.g. http://prometheus:9090.",
            "format": "url",
        }
    )
    bearer_token: Secret | None = field(
        default=None,
        metadata={"help": "A bearer token, for a proxy or a managed Prometheus in front of it."},
    )
    username: str | None = field(
        default=None,
        metadata={"help": "A basic-auth user (with password), instead of bearer_token."},
    )
    password: Secret | None = field(
        default=None, metadata={"help": "That user's password, as env:VAR or keyring:service/name."}
    )
    timeout: Duration = field(
        default=TIMEOUT,
        metadata={"help": "Per query; keep it below the server's own query timeout."},
    )
    verify_tls: bool = field(
        default=True,
        metadata={"help": "Check the server's TLS certificate; turn off only for a lab instance."},
    )
    lookback: Duration = field(
        default=LOOKBACK, metadata={"help": "The window read when no canary is known."}
    )
    max_window: Duration = field(
        default=MAX_WINDOW, metadata={"help": "The longest canary lifetime queried."}
    )
    step: Duration | None = field(
        default=None,
        metadata={"help": "The query resolution; default: about 60 to 150 points over the window."},
    )
    canaries: list[CanaryOptions] = field(
        default_factory=list,
        metadata={"help": "Where each service's canary is measured, and with which metrics."},
    )

    def validate(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("url must be an http:// or https:// URL of the Prometheus server")
        if parts.username or parts.password:
            raise ValueError("put credentials in username/password, not in the url")
        if self.bearer_token is not None and (self.username or self.password):
            raise ValueError("choose one of bearer_token or username/password")
        if (self.username is None) != (self.password is None):
            raise ValueError("basic auth needs both username and password")
        if self.timeout <= 0 or self.lookback <= 0 or self.max_window <= 0:
            raise ValueError("timeout, lookback and max_window must be positive")
        if self.step is not None and self.step <= 0:
            raise ValueError("step must be positive")
        keys = [(c.service, c.environment) for c in self.canaries]
        if len(set(keys)) != len(keys):
            raise ValueError("each (service, environment) may be configured only once")
