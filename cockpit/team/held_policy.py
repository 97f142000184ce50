"""The policy in force in team mode: the newest version in the team store, never the file.

An operator could otherwise loosen the rules by editing their own config. So with `store:`
configured the executor's policy is a `HeldPolicy`: it decides with the newest stored
version, re-read before each action is planned and again when it is submitted (off the
event loop, in a thread), and it refuses every action while

- no version is stored yet (fail closed: the message names `cockpit policy push`),
- the store cannot be read, or the stored text no longer matches its digest,
- this host's config has a `policy:` section that differs from the stored one (both
  digests named, so the operator sees which rules are in force and that theirs are not),
- or it has not been read yet.

A config without a `policy:` section simply takes the team's. The refusal is an ordinary
policy decision: the executor audits it as `action.refused` and the CLI exits 3.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from cockpit.actions.policy import REFUSED, Decision, Operator, Policy
from cockpit.actions.policy_config import PolicyConfig
from cockpit.sanitize import clean
from cockpit.team.policy_doc import SHORT, LocalPolicy, digest_of

if TYPE_CHECKING:
    from cockpit.config import Settings
    from cockpit.fleet.snapshot import FleetSnapshot
    from cockpit.model import Action, PendingApproval

State = Literal["reading", "none", "unreadable", "in_force", "differs"]
PUSH_HINT = "a policy admin pushes one with `cockpit policy push FILE`"


@dataclass(frozen=True)
class Held:
    """What the team store says is in force, as last read."""

    state: State
    local: LocalPolicy
    version: int = 0
    digest: str = ""
    why: str = ""  # unreadable: what went wrong (no secrets: connect errors are scrubbed)
    config: PolicyConfig | None = None  # the stored policy, parsed (in_force, differs)

    @property
    def short(self) -> str:
        return self.digest[:SHORT]

    def badge(self) -> str:
        """The top bar's words: "policy v3 1a2b3c4d5e6f", and whether this host differs."""
        if self.state in ("in_force", "differs"):
            text = f"policy v{self.version} {self.short}"
            return text + (" (local policy differs)" if self.state == "differs" else "")
        return {
            "reading": "policy: reading",
            "none": "policy: none stored",
            "unreadable": "policy: unreadable",
        }[self.state]

    def source(self) -> str:
        """Which rules decided, for the audit record's policy section."""
        if self.version:
            return f"team v{self.version} sha256:{self.digest}"
        return f"team: {self.state}"

    def refusal(self) -> str:
        """Why no action may run under this state ("" when the stored policy decides)."""
        if self.state == "in_force":
            return ""
        if self.state == "differs":
            return (
                f"the team's policy v{self.version} (sha256 {self.short}) is in force; this "
                f"host's config has a policy: section that differs (sha256 {self.local.short}): "
                "remove it or make it match (`cockpit policy diff` shows how)"
            )
        if self.state == "none":
            return f"team mode: no policy is stored in the team store yet; {PUSH_HINT}"
        if self.state == "unreadable":
            return f"team mode: the team's policy cannot be read ({self.why}); nothing may run"
        return "team mode: the team's policy has not been read from the store yet"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"state": self.state}
        if self.version:
            out |= {"version": self.version, "digest": self.digest}
        out["local_policy"] = (
            {"digest": self.local.digest, "differs": self.state == "differs"}
            if self.local.written
            else None
        )
        if self.why:
            out["why"] = self.why
        return out


def local_policy(settings: Settings) -> LocalPolicy:
    """This host's `policy:` section, if it wrote one (a config without it takes the team's)."""
    if not getattr(settings, "policy_written", False):
        return LocalPolicy(False)
    return LocalPolicy(True, digest_of(settings.policy))


def read_held(settings: Settings) -> Held:
    """Read the newest stored version and compare this host's section with it (blocking:
    call it from a thread, never the event loop)."""
    from cockpit.errors import CockpitError
    from cockpit.team import policy_store
    from cockpit.team.connect import connect
    from cockpit.team.policy_doc import read_text

    local = local_policy(settings)
    if settings.store is None:
        return Held("unreadable", local, why="no store: section")
    try:
        with connect(settings.store) as conn:
            stored = policy_store.newest(conn)
    except CockpitError as exc:  # AuditError / ConfigError, scrubbed by cockpit.team.connect
        return Held("unreadable", local, why=clean(exc, limit=300))
    except Exception as exc:  # psycopg.Error: no table yet, permission, lost connection
        from cockpit.team.connect import scrub

        why = scrub(str(exc)) or type(exc).__name__
        if policy_store.not_initialised(exc):
            why = policy_store.NOT_INITIALISED
        return Held("unreadable", local, why=f"{settings.store.where()}: {why}")
    if stored is None:
        return Held("none", local)
    try:
        doc = read_text(stored.text, f"(team policy v{stored.number})")
    except Exception as exc:  # ConfigError(s): a key file missing here, a setting unknown
        why = f"stored v{stored.number} is not a usable policy on this host: {clean(exc)}"
        return Held("unreadable", local, stored.number, stored.digest, why=why)
    if doc.digest != stored.digest:
        why = f"stored v{stored.number}'s text does not match its digest {stored.digest[:SHORT]}"
        return Held("unreadable", local, stored.number, stored.digest, why=why)
    state: State = "differs" if local.written and local.digest != stored.digest else "in_force"
    return Held(state, local, stored.number, stored.digest, config=doc.config)


class HeldPolicy(Policy):
    """A Policy deciding with the team's stored version, refusing while it cannot."""

    def __init__(
        self,
        settings: Settings,
        *,
        read_only: bool = False,
        reader: Callable[[], Held] | None = None,
    ) -> None:
        super().__init__(
            PolicyConfig(),
            production=[e.name for e in settings.environments if e.production],
            read_only=read_only,
            read_only_envs=settings.read_only_envs,
            people=settings.identities,
            systems={c.name: c.type for c in settings.connectors},
        )
        self.held = Held("reading", local_policy(settings))
        self._reader = reader or (lambda: read_held(settings))

    def adopt(self, held: Held) -> None:
        """Decide with `held` from now on (on the event loop's thread: evaluate runs there)."""
        config = held.config or PolicyConfig()
        self.held = held
        self.config = config
        self.windows = tuple(w.window() for w in config.windows)

    def load(self) -> Held:
        """Read the store now, blocking (the CLI's commands before any event loop)."""
        self.adopt(self._reader())
        return self.held

    async def refresh(self) -> None:
        """Read the newest version in a thread; the loop keeps running meanwhile."""
        self.adopt(await asyncio.to_thread(self._reader))

    def evaluate(
        self,
        action: Action,
        operator: Operator,
        snapshot: FleetSnapshot,
        now: datetime,
        *,
        approval: PendingApproval | None = None,
        capable: bool = True,
        approved_by: Sequence[str] = (),
    ) -> Decision:
        held = self.held
        why = held.refusal()
        if why:
            return Decision(
                REFUSED,
                (why,),
                production=action.environment in self.production,
                policy_version=held.source(),
            )
        decision = super().evaluate(
            action,
            operator,
            snapshot,
            now,
            approval=approval,
            capable=capable,
            approved_by=approved_by,
        )
        return replace(decision, policy_version=held.source())
