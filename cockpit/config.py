"""Configuration: where the file is, its schema, and turning it into running settings.

Lookup order: `--config`, then `$COCKPIT_CONFIG`, then `config.yaml` in the user config
directory; with none of them the cockpit runs the built-in demo fleet (an empty file is an
error, not the demo). Every problem is named with file, line and field, and all of them are
found in one pass: `ConfigProblems` carries the lot, and nothing starts while there is one.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.config_later import Later, Section
from cockpit.config_records import DEFAULT_ENVIRONMENTS as DEFAULT_ENVIRONMENTS
from cockpit.config_records import AuditConfig as AuditConfig
from cockpit.config_records import ConnectorConfig as ConnectorConfig
from cockpit.config_records import EnvironmentConfig as EnvironmentConfig
from cockpit.config_records import UiConfig as UiConfig
from cockpit.config_secrets import resolve_secrets_in
from cockpit.config_yaml import parse_yaml_text as parse_yaml_text
from cockpit.config_yaml import read_yaml as read_yaml
from cockpit.connect import options as opt
from cockpit.connect.options import Duration, LineMap
from cockpit.connector import DEFAULT_MAX_RESPONSE_BYTES as DEFAULT_MAX_RESPONSE_BYTES
from cockpit.connector import Connector
from cockpit.errors import ConfigError, PluginError
from cockpit.fleet.analysis import CanaryConfig
from cockpit.model import Environment

if TYPE_CHECKING:
    from cockpit.actions.people import PersonConfig
    from cockpit.actions.policy_config import IdentityConfig, PolicyConfig
    from cockpit.anchors_config import CheckpointsConfig
    from cockpit.config_file import ConfigFile
    from cockpit.controller.config import ControllerConfig
    from cockpit.controller.webhooks_config import WebhooksConfig
    from cockpit.retention_config import RetentionConfig
    from cockpit.team.store_config import StoreConfig

PRODUCTION_NAMES = {"prod", "production", "prd", "live"}

# The sections' classes (and the schema) load when a file is read or one is asked for here:
# the built-in demo starts without them.
_POLICY = "cockpit.actions.policy_config"
_SECTIONS = {
    "ConfigFile": "cockpit.config_file:ConfigFile",
    "PolicyConfig": f"{_POLICY}:PolicyConfig",
    "EnvironmentPolicy": f"{_POLICY}:EnvironmentPolicy",
    "IdentityConfig": f"{_POLICY}:IdentityConfig",
    "policy_problems": f"{_POLICY}:policy_problems",
    "PersonConfig": "cockpit.actions.people:PersonConfig",
    "demo_supply_chain": "cockpit.actions.supply_config:demo_supply_chain",
    "CheckpointsConfig": "cockpit.anchors_config:CheckpointsConfig",
    "RetentionConfig": "cockpit.retention_config:RetentionConfig",
    "ControllerConfig": "cockpit.controller.config:ControllerConfig",
    "WebhooksConfig": "cockpit.controller.webhooks_config:WebhooksConfig",
    "StoreConfig": "cockpit.team.store_config:StoreConfig",
    "store_config": "cockpit.team.store_config:",
    "section_problems": "cockpit.config_sections:section_problems",
}


def __getattr__(name: str) -> Any:
    if name in _SECTIONS:
        import importlib

        module, _, attr = _SECTIONS[name].partition(":")
        found = importlib.import_module(module)
        return getattr(found, attr) if attr else found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class ConnectorSpec:
    """One connector instance, ready for the hub."""

    name: str
    type: str
    cls: builtins.type[Connector]
    options: Any
    interval: float
    timeout: float
    stale_after: float
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES


@dataclass(frozen=True)
class Settings:
    """The running configuration.

    The sections only actions, the controller and the team use are `Section`s: from a file
    they are parsed and checked at load like the rest; the built-in ones (defaults, the
    demo's) are built when first read, after the first frame (cockpit/config_later.py).
    """

    file: str | None
    environments: tuple[Environment, ...]
    connectors: tuple[ConnectorSpec, ...]
    keys: Mapping[str, str]
    ui: UiConfig
    audit: AuditConfig
    problems: tuple[str, ...] = ()  # plugins that failed to load and were skipped
    read_only_envs: frozenset[str] = frozenset()
    # A Section's value is built per instance when first read (RUF009: not a shared default).
    policy: Section[PolicyConfig] = Section(f"{_POLICY}:PolicyConfig")  # noqa: RUF009
    canary: CanaryConfig = field(default_factory=CanaryConfig)
    identity: Section[IdentityConfig] = Section(f"{_POLICY}:IdentityConfig")  # noqa: RUF009
    identities: Mapping[str, PersonConfig] = field(default_factory=dict)
    retention: Section[RetentionConfig] = Section(_SECTIONS["RetentionConfig"])  # noqa: RUF009
    checkpoints: Section[CheckpointsConfig] = Section(_SECTIONS["CheckpointsConfig"])  # noqa: RUF009
    store: StoreConfig | None = None  # team mode: the shared PostgreSQL store
    # Whether the file has a `policy:` section: in team mode one that differs from the
    # team's stored policy refuses every action (cockpit.team.held_policy).
    policy_written: bool = False
    controller: Section[ControllerConfig] = Section(_SECTIONS["ControllerConfig"])  # noqa: RUF009
    webhooks: Section[WebhooksConfig] = Section(_SECTIONS["WebhooksConfig"])  # noqa: RUF009

    @property
    def demo(self) -> bool:
        return self.file is None

    def given(self, section: str) -> bool:
        """Whether `section` holds one read from a file or given, rather than a built-in one
        not built yet (whose answer to "any change windows?", "any gated webhooks?" is no)."""
        descriptor: Section[Any] = type(self).__dict__[section]
        return descriptor.given(self)

    @property
    def change_windows(self) -> bool:
        """Whether the policy sets change windows; the first frame asks without building the
        built-in policy (it sets none)."""
        return self.given("policy") and bool(self.policy.windows)


def default_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("cockpit")) / "config.yaml"


def find(explicit: str | None, env: Mapping[str, str] | None = None) -> Path | None:
    """The config file to use, or None for the demo fleet."""
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get("COCKPIT_CONFIG"):
        return Path(env["COCKPIT_CONFIG"])
    path = default_path()
    return path if path.exists() else None


def demo_file(seed: int, scale: int) -> ConfigFile:
    """The built-in demo as a config file would give it: `load` builds the same settings
    (cockpit/config_later.py) without loading the sections; the tests compare the two."""
    from cockpit.config_file import ConfigFile

    return ConfigFile(policy=demo_policy(), connectors=_demo_connectors(seed, scale))


def demo_policy() -> PolicyConfig:
    """The demo rolls a failing prod canary back on its own, to show the whole path, and
    judges its supply-chain documents (cockpit.actions.supply_config)."""
    from cockpit.actions.policy_config import EnvironmentPolicy, PolicyConfig
    from cockpit.actions.supply_config import demo_supply_chain

    return PolicyConfig(
        environments={"prod": EnvironmentPolicy(auto_rollback=True)},
        supply_chain=demo_supply_chain(),
    )


def _demo_connectors(seed: int, scale: int) -> list[ConnectorConfig]:
    options = {"seed": seed, "services": scale}
    return [ConnectorConfig("demo", "demo", Duration(1), Duration(5), options=options)]


def load(
    explicit: str | None = None,
    *,
    seed: int = 7,
    scale: int | None = None,
    env: Mapping[str, str] | None = None,
    resolve_secrets: bool = True,
) -> Settings:
    """Find, parse and validate the configuration; ConfigProblems naming every problem."""
    env = os.environ if env is None else env
    path = find(explicit, env)
    problems = opt.Problems()
    settings: Settings | None
    if path is None:
        settings = _demo(seed, scale or 12, problems, env=env, resolve_secrets=resolve_secrets)
    else:
        from cockpit.config_file import ConfigFile
        from cockpit.team import store_config

        data, lines = read_yaml(path)
        if data is None:
            # Running the demo here would show a healthy fake fleet to someone who meant prod.
            raise ConfigError(
                "empty config: the file has no settings (the demo runs only without a config file)",
                file=str(path),
            )
        raw = opt.parse_all(ConfigFile, data, problems, lines=lines, env=env)
        if store_config.empty_section(data):
            problems.add(lines.error(("store",), "store: needs at least url: postgresql://..."))
        settings = None
        if raw is not None:
            written = isinstance(data, dict) and "policy" in data
            settings = build(
                raw, lines, problems, env=env, resolve_secrets=resolve_secrets, written=written
            )
    problems.raise_if_any()
    assert settings is not None  # built whenever there was no problem
    return settings


def _demo(
    seed: int, scale: int, problems: opt.Problems, *, env: Mapping[str, str], resolve_secrets: bool
) -> Settings:
    """The built-in demo's settings: its sections are built when first read (no file, so
    nothing in them to check; tests/unit/test_config_later.py checks them as a file's)."""
    lines = LineMap("(built-in demo)")
    environments = [EnvironmentConfig(n) for n in DEFAULT_ENVIRONMENTS]
    connectors = _demo_connectors(seed, scale)
    envs, _, specs, skipped = _core(
        environments, connectors, {}, lines, problems, env, resolve_secrets
    )
    return Settings(
        file=None,
        environments=envs,
        connectors=specs,
        keys={},
        ui=UiConfig(),
        audit=AuditConfig(),
        problems=skipped,
        policy=Later(demo_policy),
        policy_written=True,
    )


def build(
    raw: ConfigFile,
    lines: LineMap,
    problems: opt.Problems,
    *,
    env: Mapping[str, str],
    resolve_secrets: bool,
    demo: bool = False,
    written: bool = False,
) -> Settings:
    """A parsed file's settings, every section checked (`problems` gets each problem)."""
    from cockpit.actions.policy_config import policy_problems
    from cockpit.config_sections import section_problems

    envs, names, specs, skipped = _core(
        raw.environments, raw.connectors, raw.keys, lines, problems, env, resolve_secrets
    )
    # With an environment in error, "unknown environment" would only repeat it in other words.
    known_envs = None if problems.about("environments") else names
    for error in policy_problems(raw.policy, known_envs, lines):
        problems.add(error)
    section_problems(raw, lines, problems, known_envs, env, resolve_secrets)
    return Settings(
        file=None if demo else lines.file,
        environments=envs,
        connectors=specs,
        keys=dict(raw.keys),
        ui=raw.ui,
        audit=raw.audit,
        problems=skipped,
        read_only_envs=frozenset(
            e.name for e in raw.environments if e.read_only and e.name in names
        ),
        policy=raw.policy,
        canary=raw.canary,
        identity=raw.identity,
        identities=raw.identities,
        retention=raw.retention,
        checkpoints=raw.checkpoints,
        controller=raw.controller,
        store=raw.store,
        webhooks=raw.webhooks,
        policy_written=demo or written,
    )


def _core(
    raw_environments: list[EnvironmentConfig],
    raw_connectors: list[ConnectorConfig],
    keys: Mapping[str, str],
    lines: LineMap,
    problems: opt.Problems,
    env: Mapping[str, str],
    resolve_secrets: bool,
) -> tuple[tuple[Environment, ...], set[str], tuple[ConnectorSpec, ...], tuple[str, ...]]:
    """Environments, connectors and key bindings, checked: what a file and the demo share.
    The environments, their names, the connectors' specs, the plugins skipped."""
    from cockpit.connect import plugins

    environments = []
    seen: dict[str, int] = {}
    for i, e in enumerate(raw_environments):
        if e.name in seen:
            problems.add(
                lines.error(
                    ("environments", i),
                    f"duplicate environment {e.name!r} (first at item {seen[e.name]})",
                )
            )
            continue
        seen[e.name] = i
        production = e.production if e.production is not None else e.name in PRODUCTION_NAMES
        environments.append(Environment(e.name, i, production))
    if not environments and not problems.about("environments"):
        problems.add(lines.error(("environments",), "at least one environment is needed"))

    eps = plugins.for_types({c.type for c in raw_connectors})
    specs = []
    skipped = []
    names: dict[str, int] = {}
    for i, c in enumerate(raw_connectors):
        where = ("connectors", i)
        found = len(problems.errors)
        if c.name in names:
            problems.add(
                lines.error(
                    (*where, "name"),
                    f"duplicate connector name {c.name!r} (first at item {names[c.name]})",
                )
            )
        names.setdefault(c.name, i)
        if c.type not in eps:
            hint = opt._suggest(c.type, sorted(eps))
            problems.add(lines.error((*where, "type"), f"unknown connector type {c.type!r}{hint}"))
        if c.interval <= 0:
            problems.add(lines.error((*where, "interval"), "the poll interval must be positive"))
        if c.timeout <= 0:
            problems.add(lines.error((*where, "timeout"), "the timeout must be positive"))
        if c.max_response_bytes < 1024:
            problems.add(lines.error((*where, "max_response_bytes"), "must be at least 1024 bytes"))
        if not c.enabled or c.type not in eps:
            continue
        try:
            cls = plugins.load(c.type, eps)
        except PluginError as exc:
            skipped.append(str(exc))
            continue
        options: Any = opt.parse_all(
            cls.Options, c.options, problems, path=(*where, "options"), lines=lines, env=env
        )
        if options is None:
            continue
        if resolve_secrets:
            resolve_secrets_in(options, lines, (*where, "options"), env, problems)
        if len(problems.errors) > found:
            continue
        stale = (
            c.stale_after
            if c.stale_after is not None
            else max(3 * c.interval, c.interval + c.timeout)
        )
        specs.append(
            ConnectorSpec(
                c.name,
                c.type,
                cls,
                options,
                float(c.interval),
                float(c.timeout),
                float(stale),
                c.max_response_bytes,
            )
        )

    from cockpit.keys import BY_ID

    for binding_id, key in keys.items():
        if binding_id not in BY_ID:
            hint = opt._suggest(binding_id, sorted(BY_ID))
            problems.add(
                lines.error(("keys", binding_id), f"unknown key binding id {binding_id!r}{hint}")
            )
        elif not key.strip():
            problems.add(lines.error(("keys", binding_id), "a key binding is a non-empty key name"))
    return tuple(environments), set(seen), tuple(specs), tuple(skipped)
