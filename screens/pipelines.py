"""Pipelines: runs newest first with status, stage, duration, author and commit; Enter for stages."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from cockpit.actions import targets
from cockpit.clock import ago, duration
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import ActionKind, PipelineRun, Status
from cockpit.sanitize import clean, first_line
from screens.base import FleetScreen
from screens.widgets import LiveTable, SortText, status_text, txt

MAX_ROWS = 1000  # newest runs shown; the filter reaches all of them

COLUMNS = [
    ("run", "Run", 22),
    ("status", "Status", 12),
    ("stage", "Stage", 15),
    ("duration", "Took", 7),
    ("author", "Author", 9),
    ("commit", "Commit", 8),
    ("message", "Message", None),
]
# Dropped in this order on a narrow terminal: status, run (service) and message stay.
OPTIONAL = ("commit", "author", "duration", "stage")


def run_row(run: PipelineRun, now: datetime) -> list[Text]:
    stage = run.current_stage
    if stage is None:
        failed = next((s for s in run.stages if s.status is Status.FAILED), None)
        stage_text = txt(failed.name, "red") if failed else Text("done", style="dim")
    else:
        stage_text = txt(stage.name, "yellow bold" if stage.waiting_for_approval else "")
    took = run.duration(now)
    return [
        SortText(clean(run.id, limit=22)),
        status_text(run.status),
        stage_text,
        Text(duration(took)),
        txt(run.author, limit=12),
        txt(run.commit[:7], "dim"),
        Text(first_line(run.message, limit=80)),
    ]


def run_action(screen: FleetScreen, run_id: str | None, kind: ActionKind) -> targets.Built:
    if run_id is None:
        return "select a run first"
    snap = screen.cockpit.snapshot
    if kind is ActionKind.RERUN:
        return targets.rerun(snap, run_id)
    approval = targets.approval_for(snap, "", "", run_id=run_id)
    return approval if isinstance(approval, str) else targets.decide(approval, kind)


class PipelinesScreen(FleetScreen):
    VIEW = "pipelines"
    TITLE_TEXT = "Pipelines"
    ACTIONS_HERE = frozenset({ActionKind.APPROVE, ActionKind.REJECT, ActionKind.RERUN})

    def build(self, kind: ActionKind) -> targets.Built:
        return run_action(self, self.table.current_key(), kind)

    def compose_body(self) -> ComposeResult:
        yield LiveTable(COLUMNS, id="runs", optional=OPTIONAL)
        yield Static(id="count", classes="dim")

    @property
    def table(self) -> LiveTable:
        return self.query_one("#runs", LiveTable)

    def _wanted(self, snapshot: FleetSnapshot) -> list[PipelineRun]:
        runs = snapshot.runs_newest_first()
        if self.filter_text:
            runs = [
                r
                for r in runs
                if self.matches(
                    r.id, r.service, r.status.value, r.author, r.commit, r.message, r.branch
                )
            ]
        return runs

    def render_fleet(self, snapshot: FleetSnapshot, full: bool) -> None:
        now = self.cockpit.now()
        table = self.table
        changes = snapshot.changes
        if not full and not changes.runs_removed:
            shown = set(table.keys)
            if changes.runs <= shown:
                ids = set(changes.runs)
                # Running runs' durations move with the clock; refresh the visible ones.
                ids.update(k for k in table.keys[:200] if not snapshot.runs[k].status.terminal)
                table.update_rows((rid, run_row(snapshot.runs[rid], now)) for rid in ids)
                return
        runs = self._wanted(snapshot)
        table.reconcile((r.id, run_row(r, now)) for r in runs[:MAX_ROWS])
        total = len(snapshot.runs)
        shown_n = min(len(runs), MAX_ROWS)
        note = f"{shown_n} of {total} runs"
        if len(runs) > MAX_ROWS:
            note += f" (newest {MAX_ROWS}; type / to filter)"
        self.query_one("#count", Static).update(Text(note, style="dim"), layout=False)

    def action_open(self) -> None:
        run_id = self.table.current_key()
        if run_id is not None:
            self.app.push_screen(RunScreen(run_id))


def tests_lines(head: Text, snapshot: FleetSnapshot, run: PipelineRun, window: int) -> None:
    """The run's failing tests by name from its test report (known-flaky ones marked), and
    the service's flaky tests in its last `window` runs."""
    from cockpit.fleet.run_tests import run_tests

    found = run_tests(snapshot, run, window)
    if found is None:
        return
    if found.problem:
        head.append(f"\ntest report unreadable: {found.problem}", style="yellow")
        return
    if found.failing:
        head.append(f"\nfailing tests ({found.report}):", style="red")
        for test in found.failing:
            head.append("\n  ✗ ")
            head.append(test.id)
            if test.flaky:
                head.append(" [flaky]", style="yellow")
            if test.message:
                head.append(f"  {test.message}", style="dim")
        if found.more:
            head.append(f"\n  +{found.more} more", style="dim")
    if found.flaky:
        shown = ", ".join(found.flaky[:5]) + (
            f" +{len(found.flaky) - 5} more" if len(found.flaky) > 5 else ""
        )
        head.append(f"\nflaky in the last {found.window} runs: ", style="yellow")
        head.append(shown)


class RunScreen(FleetScreen):
    """One run: its stages with timings, the test summary (failing tests by name, known-flaky
    ones marked, from its test report) and the commit."""

    TITLE_TEXT = "Pipeline run"
    FILTERABLE = False
    ACTIONS_HERE = frozenset({ActionKind.APPROVE, ActionKind.REJECT, ActionKind.RERUN})

    def build(self, kind: ActionKind) -> targets.Built:
        return run_action(self, self.run_id, kind)

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id

    def _flaky_window(self) -> int:
        policy = self.cockpit.settings.policy
        held = self.cockpit.held_policy() if self.cockpit.settings.store is not None else None
        if held is not None and held.config is not None:  # team mode: the stored policy's
            policy = held.config
        tests = policy.supply_chain.tests
        return tests.flaky_window if tests is not None else 10

    def compose_body(self) -> ComposeResult:
        yield Static(id="run-head")
        yield LiveTable(
            [
                ("stage", "Stage", 18),
                ("status", "Status", 14),
                ("env", "Env", 9),
                ("started", "Started", 9),
                ("took", "Took", 8),
            ],
            id="stages",
        )
        yield Static(id="run-message")

    def render_fleet(self, snapshot: FleetSnapshot, full: bool) -> None:
        run = snapshot.runs.get(self.run_id)
        now = self.cockpit.now()
        head = Text()
        if run is None:
            head.append(f"run {clean(self.run_id)} is no longer reported", style="yellow")
            self.query_one("#run-head", Static).update(head)
            return
        head.append_text(txt(run.id, "bold"))
        head.append("  ")
        head.append_text(status_text(run.status))
        head.append(f"  {run.pipeline and clean(run.pipeline)} on ")
        head.append_text(txt(run.branch))
        head.append("  version ")
        head.append_text(txt(run.version or "-", "bold"))
        head.append("\nauthor ")
        head.append_text(txt(run.author))
        head.append("  commit ")
        head.append_text(txt(run.commit[:12]))
        head.append(f"  queued {ago(run.queued_at, now)} ago  took {duration(run.duration(now))}")
        if run.tests is not None:
            t = run.tests
            head.append("\ntests ")
            head.append(f"{t.passed} passed", style="green")
            head.append(", ")
            head.append(f"{t.failed} failed", style="red bold" if t.failed else "")
            head.append(f", {t.skipped} skipped ({t.total} total)")
        else:
            head.append("\ntests: no summary yet", style="dim")
        tests_lines(head, snapshot, run, self._flaky_window())
        if run.url:
            head.append("\n")
            head.append_text(txt(run.url, "dim"))
        self.query_one("#run-head", Static).update(head)
        rows = []
        for i, stage in enumerate(run.stages):
            label = stage.name + (" (approval)" if stage.waiting_for_approval else "")
            took = None
            if stage.started_at is not None:
                took = ((stage.finished_at or now) - stage.started_at).total_seconds()
            name = SortText(clean(label))
            rows.append(
                (
                    f"{i}:{stage.name}",
                    [
                        name,
                        status_text(stage.status),
                        txt(stage.environment or "-"),
                        Text(ago(stage.started_at, now)),
                        Text(duration(took)),
                    ],
                )
            )
        self.query_one("#stages", LiveTable).reconcile(rows)
        message = Text("commit message:\n", style="dim")
        message.append(clean(run.message, multiline=True, limit=2000))
        self.query_one("#run-message", Static).update(message)
