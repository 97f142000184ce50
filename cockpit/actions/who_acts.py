"""Team mode: who the team store says is acting, asked once per executor.

On one host the OS user is the actor. With a team store it is the database role the store
authenticated (cockpit.team.identity supplies the lookup): until that answer is in, the
executor refuses every plan, so nothing is judged or recorded on the OS user's word.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from cockpit.actions.policy import Operator
from cockpit.sanitize import clean

if TYPE_CHECKING:
    from cockpit.audit import Actor

# -> the actor, the operator policy judges, and what each record carries beside them.
Identify = Callable[[], Awaitable[tuple["Actor", Operator, Mapping[str, Any]]]]
Found = tuple["Actor", Operator, Mapping[str, Any]]


class WhoActs:
    def __init__(self, identify: Identify | None) -> None:
        self._identify = identify
        self.unknown = "" if identify is None else "who you are is not known yet"
        """Why the identity is unknown; "" once known, and always outside team mode."""

    async def ask(self) -> Found | None:
        """The identity the first time it is learnt; None when already known or not learnt
        (then `unknown` says why, and the next call asks again)."""
        if self._identify is None or not self.unknown:
            return None
        try:
            found = await self._identify()
        except Exception as exc:  # unreachable, refused: asked again by the next action
            self.unknown = clean(f"{type(exc).__name__}: {exc}", limit=300)
            return None
        self.unknown = ""
        return found
