"""The one confirmation dialog for every mutating action.

It shows what, where, from which version to which, the artifact digest, the go/no-go
checklist with evidence, the change window, the policy decision and any connector
warnings; it asks for a reason (required) and a change ticket (optional), a typed service
name where configured, and an explicit break-glass tick where policy demands one.
Production is unmistakable. Focus starts on the reason (on Close when the action is
refused); Enter runs it once every requirement holds, else says what is missing; Esc
cancels. Every Tab stop is a labelled field or a button: the plan scrolls with PgUp/PgDn.

Keys typed while the dialog opens wait for its first field (the app holds them, see
cockpit/app_keys.py), and Tab moves focus as it arrives, so fast typing never lands in
the wrong field. While it is open the target is watched: if what runs there changed (the
version moved, the canary ended), the dialog says so and the executor refuses the plan.

Given a `submit`, the dialog runs the confirmed action itself and closes with its outcome;
when the audit log refuses the first record nothing has run, and the error stays in the
dialog, where the operator acted (Esc closes it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from cockpit.actions.action_flow import Confirmed
from cockpit.actions.executor import Plan
from cockpit.actions.gates import stale_evidence
from cockpit.actions.outcome import Outcome
from cockpit.actions.plan import moved, target_of
from cockpit.actions.policy import BREAK_GLASS, NEEDS_APPROVAL, PAGING_ONLY, REFUSED
from cockpit.connect.options import Duration
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import ActionKind
from cockpit.sanitize import clean
from screens.host import host_of
from screens.tickbox import TickBox
from screens.widgets import GATE_STYLE, txt


def duration_problems(text: str) -> list[str]:
    """Why a silence's duration is not one (the connector still checks its own limits)."""
    try:
        seconds = Duration.parse(text.strip())
    except ValueError:
        return [f"duration {clean(text, limit=20)!r} is not like 30m, 1h, 2h or 4h"]
    return [] if seconds >= 60 else ["a silence lasts at least 1m"]


def plan_text(plan: Plan) -> Text:
    d = plan.decision
    a = plan.action
    out = Text()
    if d.production:
        out.append(" PRODUCTION ", style="bold reverse red")
        what = "who is paged" if a.kind in PAGING_ONLY else "what customers use"
        out.append(f" this changes {what}\n", style="bold red")
    out.append_text(txt(plan.title, "bold"))
    out.append("\n")
    if plan.digest:
        out.append("digest ")
        out.append_text(txt(plan.digest, "dim"))
        out.append("\n")
    out.append("via ")
    out.append_text(txt(a.source))
    if a.remote_id:
        out.append(" · remote id ")
        out.append_text(txt(a.remote_id, "dim"))
    if plan.approval is not None:
        out.append("\nrequested by ")
        out.append_text(txt(plan.approval.requested_by, "bold"))
        if plan.approval.approvals:
            out.append(" · approved so far by ")
            out.append_text(txt(", ".join(plan.approval.approvals)))
    if d.lane is not None:
        out.append("\nlane: ")
        out.append_text(txt(d.lane.rules(), "bold yellow"))
    if d.window is not None:
        out.append("\nchange window: ")
        out.append(d.window.label, style="green" if d.window.open else "yellow bold")
    if d.gates:
        out.append("\n\nGo/no-go checklist\n", style="bold")
        for gate in d.gates:
            label, style = GATE_STYLE[gate.status]
            out.append(f"  {label:<10}", style=style)
            out.append_text(txt(gate.name, limit=18))
            out.append("  ")
            out.append_text(txt(gate.evidence, "dim", limit=200))
            out.append("\n")
    out.append("\nPolicy: ", style="bold")
    style = {REFUSED: "red bold", BREAK_GLASS: "yellow bold", NEEDS_APPROVAL: "yellow"}.get(
        d.outcome, "green bold"
    )
    out.append(d.summary().split(":")[0], style=style)
    for reason in d.reasons:
        out.append("\n  • ")
        out.append_text(txt(reason, limit=200))
    for note in d.notes:
        out.append("\n  ! ", style="yellow")
        out.append_text(txt(note, limit=200))
    for warning in plan.warnings:
        out.append("\n⚠ ", style="yellow bold")
        out.append_text(txt(warning, "yellow", limit=300))
    return out


Submit = Callable[[Confirmed], Awaitable[Outcome]]


class PlanBody(VerticalScroll, can_focus=False):
    """The plan, scrolled from any field with PgUp/PgDn: a Tab stop here would look dead."""


def field(label: str, widget: Input) -> Horizontal:
    """One labelled input on one line: the label stays when the placeholder is gone."""
    return Horizontal(Label(label, classes="field-label"), widget, classes="field")


class ActionDialog(ModalScreen[Confirmed | Outcome | None]):
    """Confirm (or refuse to confirm) one planned action; with `submit`, also run it."""

    # Its styles are parsed when the first dialog opens, not before the first frame.
    CSS_PATH = Path(__file__).with_name("dialog.tcss")

    VIEW_LIVE_BEHIND: ClassVar[bool] = True  # the app keeps updating the view under it
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        # Priority: focus moves when Tab arrives, not after the keys typed behind it.
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
        Binding("pageup", "scroll_plan(-1)", "Scroll the plan", show=False),
        Binding("pagedown", "scroll_plan(1)", "Scroll the plan", show=False),
    ]

    def __init__(
        self, plan: Plan, submit: Submit | None = None, hotfix: Plan | None = None
    ) -> None:
        super().__init__(classes="production" if plan.decision.production else "")
        self.plan = plan
        self.normal, self.hotfix = plan, hotfix  # the promote's two plans, when a lane applies
        self.submit = submit
        self.submitting = False

    def compose(self) -> ComposeResult:
        d = self.plan.decision
        refused = d.outcome == REFUSED and (self.hotfix is None or self.hotfix.decision.refused)
        with Vertical(id="dialog"):
            yield Label(Text(self.plan.action.kind.value.upper(), style="bold"), id="dialog-title")
            if stale := stale_evidence(host_of(self.app).snapshot, self.plan.action):
                banner = txt("STALE DATA: " + "; ".join(stale), "bold yellow", limit=300)
                yield Static(banner, id="dialog-stale")
            moved_banner = Static(id="dialog-moved")
            moved_banner.display = False
            yield moved_banner
            with PlanBody(id="dialog-body"):
                yield Static(plan_text(self.plan), id="dialog-plan")
            if not refused:
                yield field(
                    "Reason",
                    Input(
                        placeholder=f"required, at least {d.reason_min_length} characters",
                        id="reason",
                    ),
                )
                if self.plan.action.kind is ActionKind.SILENCE:
                    default = self.plan.action.param("duration", "2h")
                    yield field(
                        "Duration", Input(default, placeholder="30m, 1h, 2h, 4h", id="duration")
                    )
                yield field("Ticket", Input(placeholder="optional, e.g. CHG-1234", id="ticket"))
                if self.hotfix is not None:
                    yield TickBox(
                        Text("Hotfix lane: its own gates and rules (see plan)"), id="hotfix"
                    )
                if d.typed_confirmation:
                    yield field(
                        "Confirm",
                        Input(placeholder=f"type {self.plan.confirmation_word}", id="confirm"),
                    )
                if d.needs_break_glass:
                    yield TickBox(
                        "Break glass: override the above; recorded and reported", id="glass"
                    )
            yield Static(id="dialog-why")
            with Horizontal(id="dialog-buttons"):
                yield Button("Close" if refused else "Cancel", id="cancel", variant="default")
                if not refused:
                    verb = (
                        "Request approval"
                        if d.outcome == NEEDS_APPROVAL
                        else self.plan.action.kind.value.capitalize()
                    )
                    yield Button(
                        verb,
                        id="confirm-button",
                        variant="error" if d.production else "primary",
                        disabled=True,
                    )

    async def on_mount(self) -> None:
        try:
            first = self.query("#reason")
            # Set now (not deferred like .focus()): the held keys are released to it next.
            self.set_focus(first.first(Input) if first else self.query_one("#cancel", Button))
            self._validate()
            self._fit()
            self.follow(host_of(self.app).snapshot)
        finally:  # never leave the keyboard held
            await host_of(self.app).release_keys()

    def follow(self, snapshot: FleetSnapshot) -> None:
        """A new snapshot: say so when the target changed since this opened.

        The executor compares the same way and refuses (and audits) the plan then: it was
        confirmed for what ran before.
        """
        why = moved(self.plan, target_of(self.plan.action, snapshot))
        banner = self.query_one("#dialog-moved", Static)
        if bool(why) != banner.display:
            banner.display = bool(why)
            self.call_after_refresh(self._fit)
        if why:
            words = "CHANGED: " + "; ".join(why) + ". Esc, then act on what runs now."
            banner.update(Text(clean(words, limit=400), style="bold red"))

    def action_scroll_plan(self, pages: int) -> None:
        body = self.query_one(PlanBody)
        if pages > 0:
            body.scroll_page_down()
        else:
            body.scroll_page_up()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Let the plan scroll so the inputs and buttons always fit on screen."""
        banners = sum(1 for b in self.query("#dialog-stale, #dialog-moved") if b.display)
        fixed = 2 + 1 + 2 * banners + 2 * len(self.query(".field, Checkbox")) + 2 + 2
        body = self.query_one("#dialog-body", VerticalScroll)
        body.styles.max_height = max(self.size.height - fixed, 3)

    def _value(self, selector: str) -> str:
        found = self.query(selector)
        return found.first(Input).value if found else ""

    def _glass(self) -> bool:
        boxes = self.query("#glass")
        return bool(boxes and boxes.first(Checkbox).value)

    def problems(self) -> list[str]:
        """What the executor would refuse with these answers, in its own words."""
        found = self.plan.refusal_for(
            self._value("#reason"), self._value("#confirm"), self._glass(), self._value("#ticket")
        )
        if self.query("#duration"):
            found += duration_problems(self._value("#duration"))
        return found

    def _validate(self) -> None:
        if self.plan.decision.outcome == REFUSED:
            for button in self.query("#confirm-button"):  # the other plan (hotfix) may not be
                button.disabled = True
            self.query_one("#dialog-why", Static).update(
                Text("This action is refused; nothing will run.", style="red")
            )
            return
        problems = self.problems()
        self.query_one("#confirm-button", Button).disabled = bool(problems) or self.submitting
        self.query_one("#dialog-why", Static).update(Text("; ".join(problems), style="dim"))

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self._validate()

    @on(Checkbox.Changed, "#hotfix")
    def _lane(self, changed: Checkbox.Changed) -> None:
        """Switch between the normal promote and the hotfix lane's plan."""
        chosen = self.hotfix if changed.value else self.normal
        if chosen is None:
            return
        self.plan = chosen
        self.query_one("#dialog-plan", Static).update(plan_text(chosen))
        for button in self.query("#confirm-button").results(Button):
            button.label = (
                "Request approval" if chosen.decision.outcome == NEEDS_APPROVAL else "Promote"
            )
        self._validate()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        problems = self.problems()
        if problems:  # Enter in any field: run, or say (louder) what is still missing
            self.query_one("#dialog-why", Static).update(
                Text("Not yet: " + "; ".join(problems), style="bold yellow")
            )
            return
        self._confirm()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        # Closing now would cancel an action half run, its outcome never audited.
        if not self.submitting:
            self.dismiss(None)

    @on(Button.Pressed, "#confirm-button")
    def _confirm(self) -> None:
        if self.problems() or self.plan.decision.outcome == REFUSED or self.submitting:
            return
        confirmed = Confirmed(
            reason=self._value("#reason").strip(),
            ticket=self._value("#ticket").strip(),
            break_glass=self._glass(),
            confirmation=self._value("#confirm") if self.plan.decision.typed_confirmation else None,
            hotfix=self.plan is self.hotfix,
            duration=self._value("#duration").strip(),
        )
        if self.submit is None:
            self.dismiss(confirmed)
            return
        self.submitting = True
        self._validate()
        self.query_one("#dialog-why", Static).update(Text("running…", style="dim"))
        self.run_worker(self._run(self.submit, confirmed), group="actions", exit_on_error=False)

    async def _run(self, submit: Submit, confirmed: Confirmed) -> None:
        try:
            outcome = await submit(confirmed)
        finally:  # also when it raised (the app reports that): the button comes back
            self.submitting = False
            self._validate()
        if not outcome.audit_unavailable:
            self.dismiss(outcome)
            return
        # Nothing ran; asking again may find the log writable.
        self.query_one("#dialog-why", Static).update(Text(outcome.message, style="bold red"))
