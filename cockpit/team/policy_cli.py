"""`cockpit policy push|show|diff|history`: the policy held by the team, in the team store.

In team mode (`store:` in config) every cockpit enforces the newest version pushed here,
never its own file's `policy:` section (cockpit.team.held_policy). Pushing is for members
of the `cockpit_policy_admin` database role only: the table's GRANT enforces it, and the
command asks first so a refusal is clear, audited and exits 3.

Exit codes: 0 done (`diff`: the same policy), 1 `diff`: they differ, or a push whose audit
record could not be written (nothing stored), 2 bad usage, an invalid policy (nothing
stored), no team store or an unreachable one, 3 refused (not a policy admin).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from cockpit.cli.common import config_option
from cockpit.cli.exits import Exit

if TYPE_CHECKING:
    import psycopg

    from cockpit.audit.records import AuditError
    from cockpit.config import Settings
    from cockpit.team.policy_doc import PolicyDoc
    from cockpit.team.policy_store import StoredVersion

EPILOG = """\
examples:
  cockpit policy push team-policy.yaml     store a new version (cockpit_policy_admin only)
  cockpit policy show                      the version in force, with its text
  cockpit policy show --version 2 --json
  cockpit policy diff                      the version in force vs this config's policy:
  cockpit policy diff 2 3                  two stored versions
  cockpit policy diff 3 new-policy.yaml    a stored version vs a file not pushed yet
  cockpit policy history

FILE is a config.yaml (only its policy: section is taken; environments: when present are
checked against the policy's) or a file with just policy:. It is checked as config load
checks it; an invalid policy is refused with file:line messages and nothing is stored.
See docs/team.md, "Policy held by the team".
"""


def add_parser(sub: Any) -> None:
    policy = sub.add_parser(
        "policy",
        help="team mode: push, show, diff and list the policy held in the team store",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    policy.set_defaults(run=run)
    actions = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    push = actions.add_parser(
        "push", help="check FILE's policy: and store it as the next version (audited)"
    )
    config_option(push, "config file (store:)")
    push.add_argument("file", metavar="FILE", help="a config.yaml or a file with only policy:")
    show = actions.add_parser("show", help="a stored version (default: the one in force)")
    config_option(show, "config file (store:)")
    show.add_argument("--version", type=int, metavar="N", help="this version instead")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    diff = actions.add_parser(
        "diff",
        help="compare policies: stored versions, this config's policy: or a file",
        description="Compare two policies, each a stored version number, `local` (this "
        "config's policy: section) or a FILE. Default: the version in force vs local; one "
        "argument: it vs local. Settings are compared, not spelling (defaults, order, comments).",
    )
    config_option(diff, "config file (store:)")
    diff.add_argument("a", nargs="?", metavar="A", help="version, local or FILE (default: newest)")
    diff.add_argument("b", nargs="?", metavar="B", help="version, local or FILE (default: local)")
    history = actions.add_parser("history", help="every stored version, oldest first")
    config_option(history, "config file (store:)")
    history.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    import psycopg

    from cockpit.audit.records import AuditError
    from cockpit.sanitize import clean

    settings = _settings(args)
    if settings is None:
        return Exit.USAGE
    assert settings.store is not None
    command = {"push": push, "show": show, "diff": diff, "history": history}[args.policy_command]
    try:
        return command(args, settings)
    except psycopg.Error as exc:
        print(f"cockpit policy: {clean(_failure(settings, exc))}", file=sys.stderr)
        return Exit.USAGE
    except AuditError as exc:  # the store unreachable, no tables: password-free messages
        print(f"cockpit policy: {clean(exc)}", file=sys.stderr)
        return Exit.USAGE


def _settings(args: argparse.Namespace) -> Settings | None:
    from cockpit.cli.common import load_settings

    settings = load_settings(args, resolve_secrets=False)
    if settings.store is None:
        print(
            "cockpit policy: team mode only: the config has no store: section "
            "(store: {url: postgresql://...}; see docs/team.md)",
            file=sys.stderr,
        )
        return None
    return settings


def _connect(settings: Settings) -> psycopg.Connection[Any]:
    from cockpit.team.connect import connect

    assert settings.store is not None
    return connect(settings.store)


def _query(settings: Settings, fn: Any) -> Any:
    """`fn(conn)`, a psycopg error (no table yet: not initialised) as an AuditError."""
    import psycopg

    with _connect(settings) as conn:
        try:
            return fn(conn)
        except psycopg.Error as exc:
            raise _failure(settings, exc) from None


def _failure(settings: Settings, exc: BaseException) -> AuditError:
    """A database error as a password-free AuditError; a store never initialised says so."""
    from cockpit.audit.records import AuditError
    from cockpit.team import policy_store
    from cockpit.team.connect import failure

    assert settings.store is not None
    if policy_store.not_initialised(exc):
        return AuditError(f"the team store {settings.store.where()} {policy_store.NOT_INITIALISED}")
    return failure(settings.store, exc, "use")


# push -------------------------------------------------------------------------------------
def push(args: argparse.Namespace, settings: Settings) -> int:
    from cockpit.errors import ConfigError
    from cockpit.sanitize import clean
    from cockpit.team import policy_doc, policy_store

    try:
        doc = policy_doc.read_file(args.file)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"cockpit: config error: {problem}", file=sys.stderr)
        print("cockpit policy: nothing stored: the policy is not valid", file=sys.stderr)
        return Exit.USAGE
    assert settings.store is not None
    with _connect(settings) as conn:
        try:
            role = policy_store.check_admin(conn)
        except policy_store.NotAdmin as exc:
            _record(settings, exc.role, "refused", doc, args.file, why=exc.why)
            print(f"cockpit policy: refused: {clean(exc.why)}; nothing stored", file=sys.stderr)
            return Exit.REFUSED
        current = policy_store.newest(conn)
        conn.rollback()
        if current is not None and current.digest == doc.digest:
            print(f"policy v{current.number} {doc.short} already holds this policy; nothing stored")
            return Exit.OK

        def audited(version: StoredVersion) -> None:
            # Inside the version's transaction: no audit record, no version.
            _record(settings, role, "succeeded", doc, args.file, version=version)

        try:
            stored = policy_store.push(conn, doc.digest, doc.text, str(args.file), then=audited)
        except policy_store.NotAdmin as exc:  # the GRANT said no after all
            _record(settings, exc.role, "refused", doc, args.file, why=exc.why)
            print(f"cockpit policy: refused: {clean(exc.why)}; nothing stored", file=sys.stderr)
            return Exit.REFUSED
    print(f"pushed policy v{stored.number} {doc.short} (sha256 {doc.digest})")
    print(f"pushed by {clean(stored.pushed_by)} at {_when(stored)}; every team cockpit enforces it")
    return Exit.OK


def _record(
    settings: Settings,
    role: str,
    outcome: str,
    doc: PolicyDoc,
    file: str,
    *,
    version: StoredVersion | None = None,
    why: str = "",
) -> None:
    """The push's audit record, in the team store's log, as the role the store names."""
    from cockpit import __version__
    from cockpit.actions.identity import current_actor
    from cockpit.audit import AuditEvent, EventType, open_store
    from cockpit.clock import SystemClock
    from cockpit.team.identity import identity_of

    base = current_actor(__version__)
    who = identity_of(role, frozenset(), base.user, settings.identities)
    extra: dict[str, Any] = {"digest": doc.digest, "file": str(file), "pushed_by": role}
    if version is not None:
        extra["version"] = version.number
    if why:
        extra["refusal"] = why
    kind = EventType.POLICY_PUSHED if outcome == "succeeded" else EventType.POLICY_PUSH_REFUSED
    event = AuditEvent(
        kind,
        who.actor(base),
        None,
        "policy.push",
        outcome,
        reason=why,
        extra={**extra, **who.record_extra()},
    )
    store = open_store(settings.audit.path, clock=SystemClock(), store=settings.store)
    try:
        store.append(event)
    finally:
        store.close()


def _when(version: StoredVersion) -> str:
    return version.pushed_at.isoformat(timespec="seconds").replace("+00:00", "Z")


# show, history ----------------------------------------------------------------------------
def show(args: argparse.Namespace, settings: Settings) -> int:
    from cockpit.sanitize import clean
    from cockpit.status import write_json
    from cockpit.team import policy_store

    if args.version is not None:
        found = _query(settings, lambda conn: policy_store.version(conn, args.version))
        if found is None:
            print(f"cockpit policy: no stored version {args.version}", file=sys.stderr)
            return Exit.USAGE
    else:
        found = _query(settings, policy_store.newest)
        if found is None:
            print(
                "cockpit policy: no policy is stored yet: every action is refused in team mode "
                "until a policy admin runs `cockpit policy push FILE`",
                file=sys.stderr,
            )
            return Exit.USAGE
    if args.json:
        write_json({**found.as_json(), "text": found.text}, sys.stdout)
        return Exit.OK
    print(f"policy v{found.number} sha256 {found.digest}")
    print(f"pushed by {clean(found.pushed_by)} at {_when(found)} from {clean(found.source)}")
    print()
    print(clean(found.text.rstrip("\n"), multiline=True))
    return Exit.OK


def history(args: argparse.Namespace, settings: Settings) -> int:
    from cockpit.sanitize import clean
    from cockpit.status import write_json
    from cockpit.team import policy_store
    from cockpit.team.policy_doc import SHORT

    versions = _query(settings, policy_store.history)
    if args.json:
        write_json([v.as_json() for v in versions], sys.stdout)
        return Exit.OK
    if not versions:
        print("no policy stored yet (cockpit policy push FILE)")
        return Exit.OK
    for v in versions:
        newest = "  (in force)" if v is versions[-1] else ""
        print(
            f"v{v.number:<4} {v.digest[:SHORT]}  {_when(v)}  {clean(v.pushed_by):<20} "
            f"{clean(v.source)}{newest}"
        )
    return Exit.OK


# diff -------------------------------------------------------------------------------------
def diff(args: argparse.Namespace, settings: Settings) -> int:
    from cockpit.errors import ConfigError

    try:
        a = _side(args.a or "newest", settings)
        b = _side(args.b or "local", settings)
    except LookupError as exc:
        print(f"cockpit policy: {exc.args[0]}", file=sys.stderr)
        return Exit.USAGE
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"cockpit: config error: {problem}", file=sys.stderr)
        return Exit.USAGE
    return _print_diff(a, b)


def _side(word: str, settings: Settings) -> tuple[str, Any]:
    """(label, PolicyConfig) for a version number, `newest`, `local` or a file."""
    from cockpit.sanitize import clean
    from cockpit.team import policy_doc, policy_store

    if word == "local":
        if not settings.policy_written:
            raise LookupError(
                f"{clean(settings.file)} has no policy: section (it takes the team's policy)"
            )
        label = f"local {clean(settings.file)}"
        return f"{label} {policy_doc.digest_of(settings.policy)[: policy_doc.SHORT]}", (
            settings.policy
        )
    if word == "newest" or word.isdigit():

        def read(conn: Any) -> Any:
            if word == "newest":
                return policy_store.newest(conn)
            return policy_store.version(conn, int(word))

        found = _query(settings, read)
        if found is None:
            raise LookupError(
                "no policy is stored yet" if word == "newest" else f"no stored version {word}"
            )
        doc = policy_doc.read_text(found.text, f"(team policy v{found.number})")
        return f"v{found.number} {found.digest[: policy_doc.SHORT]}", doc.config
    doc = policy_doc.read_file(word)
    return f"{clean(word)} {doc.short}", doc.config


def _print_diff(a: tuple[str, Any], b: tuple[str, Any]) -> int:
    """A unified diff of the two policies' settings (YAML, keys sorted, defaults left out)."""
    import difflib
    import json

    import yaml

    from cockpit.sanitize import clean
    from cockpit.team.policy_doc import canonical

    def rendered(config: Any) -> list[str]:
        data = json.loads(canonical(config))
        text = yaml.safe_dump({"policy": data}, sort_keys=True, allow_unicode=True)
        return text.splitlines(keepends=True)

    left, right = rendered(a[1]), rendered(b[1])
    if left == right:
        print(f"same policy: {a[0]} and {b[0]}")
        return Exit.OK
    for line in difflib.unified_diff(left, right, fromfile=a[0], tofile=b[0]):
        print(clean(line.rstrip("\n")))
    return Exit.FAILED
