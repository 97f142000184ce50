"""The config file's schema: every section, as `cockpit config check` validates it.

Loaded when there is a file to read (and by whoever asks `cockpit.config` for a section's
class); the built-in demo starts without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cockpit.actions.people import PersonConfig
from cockpit.actions.policy_config import IdentityConfig, PolicyConfig
from cockpit.anchors_config import CheckpointsConfig
from cockpit.config_records import (
    DEFAULT_ENVIRONMENTS,
    AuditConfig,
    ConnectorConfig,
    EnvironmentConfig,
    UiConfig,
)
from cockpit.controller.config import ControllerConfig
from cockpit.controller.webhooks_config import WebhooksConfig
from cockpit.fleet.analysis import CanaryConfig
from cockpit.retention_config import RetentionConfig
from cockpit.team.store_config import StoreConfig


@dataclass
class ConfigFile:
    environments: list[EnvironmentConfig] = field(
        default_factory=lambda: [EnvironmentConfig(n) for n in DEFAULT_ENVIRONMENTS]
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
