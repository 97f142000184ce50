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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cockpit.actions.people import PersonConfig
from cockpit.actions.policy_config import (
    EnvironmentPolicy,
    IdentityConfig,
    PolicyConfig,
    policy_problems,
)
from cockpit.actions.supply_config import demo_supply_chain
from cockpit.anchors_config import CheckpointsConfig
from cockpit.config_secrets import resolve_secrets_in
from cockpit.config_sections import section_problems
from cockpit.connect import options as opt
from cockpit.connect.options import Duration, LineMap
from cockpit.connector import DEFAULT_MAX_RESPONSE_BYTES as DEFAULT_MAX_RESPONSE_BYTES
from cockpit.connector import Connector
from cockpit.controller.config import ControllerConfig
from cockpit.controller.webhooks_config import WebhooksConfig
from cockpit.errors import ConfigError, PluginError
from cockpit.fleet.analysis import CanaryConfig
from cockpit.model import Environment
from cockpit.retention_config import RetentionConfig
from cockpit.team import store_config
from cockpit.team.store_config import StoreConfig

PRODUCTION_NAMES = {"prod", "production", "prd", "live"}


@dataclass
class EnvironmentConfig:
    name: str
    production: bool | None = None  # default: names like prod/production are production
    read_only: bool = False

    @classmethod
    def from_scalar(cls, value: object) -> EnvironmentConfig:
        if not isinstance(value, str):
            raise ValueError("an environment is a name or a mapping with 'name'")
        return cls(name=value)


@dataclass
class ConnectorConfig:
    name: str
    type: str
    interval: Duration = Duration(10)
    timeout: Duration = Duration(10)
    stale_after: Duration | None = None  # default: three missed intervals
    # Bodies past this are refused as they stream: a broken server cannot exhaust memory.
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    enabled: bool = True
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class UiConfig:
    theme: str = "textual-dark"
    start_view: str = "overview"


@dataclass
class AuditConfig:
    path: str | None = None  # default: audit.sqlite3 in the user data directory


@dataclass
class ConfigFile:
    environments: list[EnvironmentConfig] = field(
        default_factory=lambda: [EnvironmentConfig(n) for n in ("dev", "staging", "prod")]
    )
    connectors: list[ConnectorConfig] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    ui: UiConfig = field(default_factory=UiConfig)
    audit: AuditConfig = field(default_factory=AuditConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    canary: CanaryConfig = field(default_factory=CanaryConfig)
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    identities: dict[str, PersonConfig] = field(default_factory=dict)  # OS user -> accounts
    retention: RetentionConfig = field(default_factory=RetentionConfig)  # of audit records
    checkpoints: CheckpointsConfig = field(default_factory=CheckpointsConfig)  # anchors
    controller: ControllerConfig = field(default_factory=ControllerConfig)  # cockpit controller
    store: StoreConfig | None = None  # team mode (PostgreSQL); None: the local SQLite log
    webhooks: WebhooksConfig = field(default_factory=WebhooksConfig)  # the cockpit as the gate


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
    """The running configuration."""

    file: str | None
    environments: tuple[Environment, ...]
    connectors: tuple[ConnectorSpec, ...]
    keys: Mapping[str, str]
    ui: UiConfig
    audit: AuditConfig
    problems: tuple[str, ...] = ()  # plugins that failed to load and were skipped
    read_only_envs: frozenset[str] = frozenset()
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    canary: CanaryConfig = field(default_factory=CanaryConfig)
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    identities: Mapping[str, PersonConfig] = field(default_factory=dict)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    checkpoints: CheckpointsConfig = field(default_factory=CheckpointsConfig)
    store: StoreConfig | None = None  # team mode: the shared PostgreSQL store
    # Whether the file has a `policy:` section: in team mode one that differs from the
    # team's stored policy refuses every action (cockpit.team.held_policy).
    policy_written: bool = False
    controller: ControllerConfig = field(default_factory=ControllerConfig)
    webhooks: WebhooksConfig = field(default_factory=WebhooksConfig)

    @property
    def demo(self) -> bool:
        return self.file is None


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


def read_yaml(path: Path) -> tuple[Any, LineMap]:
    """Parse a YAML file, remembering the line of every key and list item."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=name) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=name) from None
    return parse_yaml_text(text, name)


def parse_yaml_text(text: str, name: str) -> tuple[Any, LineMap]:
    """YAML `text` (read from `name`) parsed, remembering the line of every key and item."""
    import yaml  # only when there is a file: the demo starts without it

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(
            f"YAML syntax error: {problem}",
            file=name,
            line=mark.line + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", file=name) from None
    lines: dict[opt.Path, int] = {}

    def walk(n: Any, path: opt.Path) -> None:
        if n is None:
            return
        lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            for key_node, value_node in n.value:
                child = (*path, str(key_node.value))
                walk(value_node, child)
                lines[child] = key_node.start_mark.line + 1
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, (*path, i))

    walk(node, ())
    return data, LineMap(name, lines)


def demo_file(seed: int, scale: int) -> ConfigFile:
    # The demo rolls a failing prod canary back on its own, to show the whole path, and
    # judges its supply-chain documents (cockpit.actions.supply_config).
    policy = PolicyConfig(
        environments={"prod": EnvironmentPolicy(auto_rollback=True)},
        supply_chain=demo_supply_chain(),
    )
    return ConfigFile(
        policy=policy,
        connectors=[
            ConnectorConfig(
                name="demo",
                type="demo",
                interval=Duration(1),
                timeout=Duration(5),
                options={"seed": seed, "services": scale},
            )
        ],
    )


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
    raw: ConfigFile | None
    if path is None:
        raw = demo_file(seed, scale or 12)
        lines = LineMap("(built-in demo)")
    else:
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
        settings = build(
            raw, lines, problems, env=env, resolve_secrets=resolve_secrets, demo=path is None
        )
    problems.raise_if_any()
    assert settings is not None  # built whenever there was no problem
    if path is None or (isinstance(data, dict) and "policy" in data):
        settings = replace(settings, policy_written=True)
    return settings


def build(
    raw: ConfigFile,
    lines: LineMap,
    problems: opt.Problems,
    *,
    env: Mapping[str, str],
    resolve_secrets: bool,
    demo: bool = False,
) -> Settings:
    from cockpit.connect import plugins

    environments = []
    seen: dict[str, int] = {}
    for i, e in enumerate(raw.environments):
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

    eps = plugins.for_types({c.type for c in raw.connectors})
    specs = []
    skipped = []
    names: dict[str, int] = {}
    for i, c in enumerate(raw.connectors):
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

    env_names = set(seen)
    from cockpit.keys import BY_ID

    for binding_id, key in raw.keys.items():
        if binding_id not in BY_ID:
            hint = opt._suggest(binding_id, sorted(BY_ID))
            problems.add(
                lines.error(("keys", binding_id), f"unknown key binding id {binding_id!r}{hint}")
            )
        elif not key.strip():
            problems.add(lines.error(("keys", binding_id), "a key binding is a non-empty key name"))
    # With an environment in error, "unknown environment" would only repeat it in other words.
    known_envs = None if problems.about("environments") else env_names
    for error in policy_problems(raw.policy, known_envs, lines):
        problems.add(error)
    section_problems(raw, lines, problems, known_envs, env, resolve_secrets)
    return Settings(
        file=None if demo else lines.file,
        environments=tuple(environments),
        connectors=tuple(specs),
        keys=dict(raw.keys),
        ui=raw.ui,
        audit=raw.audit,
        problems=tuple(skipped),
        read_only_envs=frozenset(
            e.name for e in raw.environments if e.read_only and e.name in env_names
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
    )
