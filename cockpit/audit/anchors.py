"""Sinks that keep signed checkpoints outside the audit store: a directory, or a Git repository.

A checkpoint is only worth something where the store's writers (and its superuser) cannot
reach: another mount, another host's Git server. Each checkpoint is one file, named by its
record count so a plain `ls` lists them in log order, written atomically (temp file, fsync,
link into place, fsync the directory) and never overwritten: a second checkpoint for the
same count with another head hash is refused, since that is the log being rewritten.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cockpit.anchors_config import CheckpointsConfig
from cockpit.audit.checkpoint import Checkpoint
from cockpit.audit.records import AuditError
from cockpit.sanitize import clean

NAME = re.compile(r"^checkpoint-(\d{12})\.txt$")
GIT_TIMEOUT = 30.0
MAX_BYTES = 16 * 1024  # a checkpoint is under 1 KiB; a planted huge file is not read whole
_CREDENTIALS = re.compile(r"://[^/@\s]+@")
AUTHOR = ("cockpit controller", "cockpit-controller@localhost")


class AnchorError(AuditError):
    """A checkpoint could not be written to (or read from) its sink; the message says why."""


def file_name(size: int) -> str:
    """`checkpoint-000000001234.txt`: zero-padded so names sort in log order."""
    return f"checkpoint-{size:012d}.txt"


@dataclass(frozen=True, slots=True)
class Found:
    """One file of a sink: its checkpoint, or why it is not one."""

    path: Path
    checkpoint: Checkpoint | None
    problem: str = ""


def names(directory: Path) -> list[str]:
    """The checkpoint file names in `directory`, in log order."""
    try:
        return sorted(n for n in os.listdir(directory) if NAME.match(n))
    except OSError as exc:
        raise AnchorError(f"cannot list {clean(str(directory))}: {exc.strerror}") from None


def read(path: Path) -> Found:
    """The checkpoint in `path`, or why it is not one."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            return Found(path, None, f"not a checkpoint: larger than {MAX_BYTES} bytes")
        return Found(path, Checkpoint.parse(data.decode("utf-8")))
    except (OSError, UnicodeDecodeError, AuditError) as exc:
        return Found(path, None, f"not a readable checkpoint: {exc}")


def listed(directory: Path) -> list[Found]:
    """Every `checkpoint-*.txt` in `directory`, in log order, parsed (or why not)."""
    return [read(directory / name) for name in names(directory)]


class Sink(Protocol):
    """Where checkpoints go. `write` is idempotent for the same (origin, size, head)."""

    def latest(self) -> Checkpoint | None:
        """The newest checkpoint already in the sink (a restarted controller goes on from it)."""
        ...

    def write(self, checkpoint: Checkpoint) -> str:
        """Store it durably; returns where (for the audit record). AnchorError on failure."""
        ...

    def describe(self) -> str: ...


class DirectorySink:
    """One file per checkpoint in a directory that must already exist.

    A missing directory is an error, not something to create: a sink meant for another mount
    that silently landed on the root filesystem would anchor nothing.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def describe(self) -> str:
        return f"dir {self.directory}"

    def _present(self) -> None:
        if not self.directory.is_dir():
            raise AnchorError(
                f"the checkpoint directory {clean(str(self.directory))} does not exist "
                "(is its mount there?)"
            )

    def latest(self) -> Checkpoint | None:
        self._present()
        for name in reversed(names(self.directory)):
            found = read(self.directory / name)
            if found.checkpoint is not None:
                return found.checkpoint
        return None

    def write(self, checkpoint: Checkpoint) -> str:
        self._present()
        path = self.directory / file_name(checkpoint.size)
        if not _already(path, checkpoint) and not _write_new(path, checkpoint.serialize()):
            _already(path, checkpoint)  # another writer won the race: same head, or refused
        return str(path)


def _already(path: Path, checkpoint: Checkpoint) -> bool:
    """Whether `path` holds this checkpoint already; AnchorError if it holds another."""
    if not os.path.lexists(path):
        return False
    found = read(path)
    there = found.checkpoint
    if there is None:
        raise AnchorError(f"{clean(path.name)} exists and is {found.problem}")
    mine = (checkpoint.origin, checkpoint.size, checkpoint.head_hash)
    if (there.origin, there.size, there.head_hash) != mine:
        raise AnchorError(
            f"{clean(path.name)} already anchors record {there.size} with head "
            f"{there.head_hash[:16]}..., the log now has {checkpoint.head_hash[:16]}...: "
            "the log was rewritten (or another log writes to this sink); not overwritten"
        )
    return True


def _write_new(path: Path, text: str) -> bool:
    """Temp file, fsync, hard link into place (fails if the name exists: never overwrite),
    fsync the directory; False when the name exists. A crash leaves either no file or the
    whole one (and perhaps a temp file, which no reader looks at)."""
    fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            # No hard links on this filesystem (some network or FAT mounts): a rename after
            # looking. Only a writer between the look and the rename could be replaced; one
            # leader writes at a time (the controller's lease), so that is a failover race.
            if path.exists():
                return False
            os.rename(tmp, path)
    except OSError as exc:
        raise AnchorError(f"cannot write {clean(str(path))}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _fsync_dir(path.parent)
    return True


def _fsync_dir(directory: Path) -> None:
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError as exc:
        raise AnchorError(f"cannot sync {clean(str(directory))}: {exc.strerror}") from None
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class GitSink:
    """Each checkpoint file committed to a Git work tree by "cockpit controller".

    Git's history is a second record of when each checkpoint appeared; with `push`, the
    commits leave the host for a remote the store's superuser does not control. Nothing
    touches the network unless `push` is on (and a remote is configured).
    """

    def __init__(self, work_tree: str | Path, *, push: bool = False) -> None:
        self.work_tree = Path(work_tree)
        self.push = push
        self._files = DirectorySink(self.work_tree)

    def describe(self) -> str:
        return f"git {self.work_tree}" + (" (push)" if self.push else "")

    def check(self) -> None:
        """AnchorError unless the path is a work tree (and, with push, has a remote)."""
        self._files._present()
        top = self._git("rev-parse", "--show-toplevel").strip()
        if Path(top).resolve() != self.work_tree.resolve():
            raise AnchorError(f"{clean(str(self.work_tree))} is not the top of a Git work tree")
        if self.push:
            self._remote()

    def _remote(self) -> str:
        remotes = self._git("remote").split()
        if not remotes:
            raise AnchorError("push is on but the repository has no remote configured")
        return "origin" if "origin" in remotes else remotes[0]

    def latest(self) -> Checkpoint | None:
        return self._files.latest()

    def write(self, checkpoint: Checkpoint) -> str:
        self.check()
        where = self._files.write(checkpoint)
        name = file_name(checkpoint.size)
        self._git("add", "--", name)
        # Nothing staged: committed by an earlier attempt whose audit record did not land.
        if self._git("diff", "--cached", "--name-only", "--", name).strip():
            message = f"checkpoint {checkpoint.origin} at {checkpoint.size} records"
            self._git("commit", "-q", "-m", message, "--", name)
        if self.push:  # the current branch to its namesake; earlier unpushed commits go too
            self._git("push", "-q", self._remote(), "HEAD")
        return where

    def _git(self, *args: str) -> str:
        name, email = AUTHOR
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_TERMINAL_PROMPT": "0",  # a push never waits for a password nobody types
        }
        # Hooks and signing prompts could hang or veto an anchor; they are the repo owner's
        # to run elsewhere (a server-side hook sees every push anyway).
        command = ["git", "-C", str(self.work_tree), "-c", "core.hooksPath=/dev/null"]
        command += ["-c", "commit.gpgsign=false", *args]
        try:
            proc = subprocess.run(
                command, capture_output=True, env=env, timeout=GIT_TIMEOUT, check=False
            )
        except FileNotFoundError:
            raise AnchorError("git is not installed") from None
        except subprocess.TimeoutExpired:
            raise AnchorError(f"git {args[0]} timed out after {GIT_TIMEOUT:.0f} s") from None
        if proc.returncode != 0:
            said = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().splitlines()
            why = clean(_no_credentials(said[-1] if said else f"exit {proc.returncode}"), limit=200)
            raise AnchorError(f"git {args[0]} failed: {why}")
        return proc.stdout.decode("utf-8", "replace")


def _no_credentials(text: str) -> str:
    """A remote URL's user:password (git repeats the URL in push errors) never reaches a log."""
    return _CREDENTIALS.sub("://***@", text)


def open_sink(cfg: CheckpointsConfig) -> Sink:
    """The sink a `checkpoints:` section names (config has checked it names exactly one)."""
    if not cfg.enabled:
        raise AnchorError("checkpoints: no sink configured (dir or git)")
    if cfg.git is not None:
        return GitSink(cfg.where, push=cfg.push)
    return DirectorySink(cfg.where)
