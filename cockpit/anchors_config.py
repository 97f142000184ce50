"""`checkpoints:` in config: where the controller anchors signed checkpoints, and how often.

Plain data and its checks only (stdlib, nothing of cockpit.audit), so loading the config
stays cheap. A checkpoint kept outside the store is what turns "the chain is intact" into
"the log is the one that existed then": without one, whoever can rewrite the store can
rewrite the whole chain (docs/audit-format.md, "Checkpoints outside the store").
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_EVERY_RECORDS = 1000
DEFAULT_EVERY_MINUTES = 5


@dataclass
class CheckpointsConfig:
    dir: str | None = None  # a directory, ideally on another mount: one file per checkpoint
    git: str | None = None  # or the work tree of a Git repository each checkpoint is committed to
    push: bool = False  # git only: push after each commit (needs a configured remote)
    every_records: int = DEFAULT_EVERY_RECORDS  # a checkpoint after this many new records
    every_minutes: int = DEFAULT_EVERY_MINUTES  # or after this long, whichever comes first
    key: str | None = None  # SSH private key (or .pub whose private half is in ssh-agent)
    allowed_signers: str | None = None  # for `audit verify --checkpoints` (ssh-keygen format)
    principal: str | None = None  # who must have signed; default: anyone in allowed_signers

    @property
    def enabled(self) -> bool:
        """Whether a sink is configured (the section is optional: no anchoring without it)."""
        return bool(self.dir or self.git)

    @property
    def where(self) -> str:
        """The sink's path, `~` expanded."""
        return os.path.expanduser(self.dir or self.git or "")


def problems(cfg: CheckpointsConfig, *, check_files: bool = True) -> list[tuple[str, str]]:
    """(key, why) for each thing wrong with `cfg`; none for the defaults (no section).

    `check_files`: also refuse a key or allowed_signers file this process cannot read. Off
    where the config is read without its secrets (an auditor's `audit verify` on a host
    that does not hold the controller's key).
    """
    if cfg == CheckpointsConfig():
        return []
    found: list[tuple[str, str]] = []
    if cfg.dir is not None and cfg.git is not None:
        found.append(("git", "give either dir or git, not both"))
    elif cfg.dir is None and cfg.git is None:
        found.append(("dir", "checkpoints need a sink: dir (a directory) or git (a work tree)"))
    for name in ("dir", "git"):
        value = getattr(cfg, name)
        if value is not None and not os.path.isabs(os.path.expanduser(value)):
            # Relative to what? A controller under systemd runs in /: refuse, do not guess.
            found.append((name, f"{name} must be an absolute path, got {value!r}"))
    if cfg.push and cfg.git is None:
        found.append(("push", "push applies to a git sink only"))
    if cfg.every_records < 1:
        found.append(("every_records", "every_records must be at least 1"))
    if cfg.every_minutes < 1:
        found.append(("every_minutes", "every_minutes must be at least 1"))
    if not cfg.key:
        found.append(("key", "checkpoints are signed: key names the SSH key to sign with"))
    elif check_files:
        found.extend(_unreadable("key", cfg.key))
    if cfg.allowed_signers is not None and check_files:
        found.extend(_unreadable("allowed_signers", cfg.allowed_signers))
    if cfg.principal is not None and (not cfg.principal or cfg.principal != cfg.principal.strip()):
        found.append(("principal", "principal is a name without surrounding spaces"))
    return found


def _unreadable(key: str, path: str) -> list[tuple[str, str]]:
    try:
        with open(os.path.expanduser(path), "rb") as f:
            f.read(1)
    except OSError as exc:
        return [(key, f"cannot read {path!r}: {exc.strerror}")]
    return []
