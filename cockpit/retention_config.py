"""`retention:` in config: how long audit records are kept, where sealed segments go.

Plain data and its checks only (stdlib), so loading the config stays cheap. Ages are
calendar ages: `7y` is seven calendar years back from now (29 February counts back to 28
February), not 7 x 365 days, since retention rules are written in years.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

_AGE = re.compile(r"^\s*(\d+)\s*(y|w|d|h)\s*$")
_HOURS = {"w": 7 * 24, "d": 24, "h": 1}


@dataclass
class RetentionConfig:
    keep: str = ""  # e.g. 7y or 400d; empty: nothing is ever past retention, so no purge
    archive_dir: str | None = None  # default: "<log name>-archive" beside the log
    seal_every: int | str | None = None  # default cutoff of `audit seal`: an age or a count
    unsigned_purge: bool = False  # allow `audit purge --unsigned` (not recommended)


class Age:
    """A calendar age: whole years, plus hours. (A plain class: config loads before the first
    frame, where each dataclass costs about a millisecond.)"""

    __slots__ = ("hours", "years")

    def __init__(self, years: int = 0, hours: int = 0) -> None:
        self.years, self.hours = years, hours

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Age) and (self.years, self.hours) == (other.years, other.hours)

    def __hash__(self) -> int:
        return hash((self.years, self.hours))

    def __repr__(self) -> str:
        return f"Age(years={self.years}, hours={self.hours})"

    def before(self, now: datetime) -> datetime:
        """The time this age before `now`."""
        year = now.year - self.years
        try:
            back = now.replace(year=year)
        except ValueError:  # 29 February in a year without one
            back = now.replace(year=year, day=28)
        return back - timedelta(hours=self.hours)

    def at_least_a_day(self) -> bool:
        return self.years > 0 or self.hours >= 24


def parse_age(text: object) -> Age:
    """`7y`, `52w`, `90d` or `36h` as an Age; ValueError saying what is accepted."""
    m = _AGE.match(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"expected an age like 7y, 90d, 12w or 36h, got {text!r}")
    n, unit = int(m.group(1)), m.group(2)
    if n <= 0:
        raise ValueError(f"an age must be more than zero, got {text!r}")
    return Age(years=n) if unit == "y" else Age(hours=n * _HOURS[unit])


def problems(cfg: RetentionConfig) -> list[tuple[str, str]]:
    """(key, why) for each thing wrong with `cfg`; none for the defaults."""
    found: list[tuple[str, str]] = []
    if cfg.keep:
        try:
            if not parse_age(cfg.keep).at_least_a_day():
                found.append(("keep", "keep must be at least 1d: records are evidence"))
        except ValueError as exc:
            found.append(("keep", str(exc)))
    if cfg.archive_dir is not None and not cfg.archive_dir.strip():
        found.append(("archive_dir", "archive_dir is empty: leave it out for the default"))
    every = cfg.seal_every
    if isinstance(every, int) and every < 1:
        found.append(("seal_every", "seal_every as a record count must be at least 1"))
    elif isinstance(every, str):
        try:
            parse_age(every)
        except ValueError as exc:
            found.append(("seal_every", f"{exc} (or a record count)"))
    return found


def archive_dir(cfg: RetentionConfig | None, log_path: str) -> Path:
    """Where sealed segments of the log at `log_path` live."""
    if cfg is not None and cfg.archive_dir:
        return Path(cfg.archive_dir).expanduser()
    log = Path(log_path)
    return log.with_name(f"{log.stem}-archive")
