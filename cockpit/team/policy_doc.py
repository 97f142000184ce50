"""A policy as the team stores it: the `policy:` section of a file, checked as config load
checks it, its text, and the digest that names it.

The digest is sha256 over a canonical form of the *parsed* policy (every setting that
differs from its default, keys sorted, numbers normalised), not over the YAML bytes: the
same rules written with other spacing, comments, key order or spelled-out defaults are the
same policy, and a cockpit that learns a new setting (with a default) still computes the
digest of a stored version as its pusher did. Comparing a local `policy:` section with the
stored one compares these digests.

No database here (and no psycopg): `cockpit.team.policy_store` keeps the versions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from cockpit.actions.policy_config import PolicyConfig, policy_problems
from cockpit.actions.supply_config import is_inline_pem
from cockpit.config import parse_yaml_text
from cockpit.connect import options as opt
from cockpit.connect.options import LineMap
from cockpit.errors import ConfigError

SHORT = 12  # hex digits of a digest shown beside a version number


@dataclass(frozen=True)
class PolicyDoc:
    """A checked policy: what it says, the YAML it was written as, and its digest."""

    config: PolicyConfig
    text: str  # a YAML document whose only top-level key is `policy:`
    digest: str  # sha256 hex of canonical(config)

    @property
    def short(self) -> str:
        return self.digest[:SHORT]


def _plain(value: Any) -> Any:
    """`value` as JSON data: dataclasses as the fields that differ from their defaults."""
    if is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in fields(value):
            v = getattr(value, f.name)
            if f.default is not MISSING:
                default: Any = f.default
            elif f.default_factory is not MISSING:
                default = f.default_factory()
            else:
                default = MISSING
            if default is not MISSING and v == default:
                continue
            out[f.name] = _plain(v)
        return out
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, int | float):
        number = float(value)
        return int(number) if number.is_integer() else number
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"no canonical form for {type(value).__name__}")


def canonical(policy: PolicyConfig) -> str:
    """The canonical JSON text of `policy` (what the digest is taken over)."""
    return json.dumps(_plain(policy), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest_of(policy: PolicyConfig) -> str:
    return hashlib.sha256(canonical(policy).encode("utf-8")).hexdigest()


def _section_text(text: str) -> str | None:
    """The lines of `text` that hold its top-level `policy:` key and value, comments inside
    kept; None when they cannot be cut out alone (the caller then writes the data out)."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if key_node.value == "policy" and key_node.start_mark.column == 0:
            end = value_node.end_mark
            rows = text.splitlines()
            last = end.line if end.column == 0 else end.line + 1
            return "\n".join(rows[key_node.start_mark.line : last]).rstrip() + "\n"
    return None


def _environment_names(data: dict[str, Any]) -> set[str] | None:
    """The environment names a config file lists (None: a policy-only file lists none)."""
    listed = data.get("environments")
    if not isinstance(listed, list):
        return None
    names = set()
    for item in listed:
        if isinstance(item, str):
            names.add(item)
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            names.add(item["name"])
    return names


def _host_paths(policy: PolicyConfig, lines: LineMap) -> list[ConfigError]:
    """Key files named relative to this host's folder: another operator's cockpit would look
    for them somewhere else, so a team policy carries PEM inline or an absolute path."""
    prov = policy.supply_chain.provenance
    if prov is None:
        return []
    where = ("policy", "supply_chain", "provenance")
    found = []
    for i, key in enumerate(prov.public_keys):
        if not is_inline_pem(key) and not Path(key).expanduser().is_absolute():
            found.append(
                lines.error(
                    (*where, "public_keys", i),
                    "a team policy names key files by absolute path (the same on every host) "
                    "or carries the PEM inline",
                )
            )
    if prov.trusted_root and not Path(prov.trusted_root).expanduser().is_absolute():
        found.append(
            lines.error(
                (*where, "trusted_root"),
                "a team policy names the trusted root by absolute path (the same on every host)",
            )
        )
    return found


def check(
    data: Any, lines: LineMap, *, env_names: set[str] | None = None, team: bool = False
) -> PolicyConfig:
    """The `policy:` section of `data` as config load checks it; ConfigProblems naming every
    problem with file:line when it is not usable."""
    if not isinstance(data, dict) or "policy" not in data:
        raise ConfigError("no policy: section: nothing to push", file=lines.file, line=1)
    problems = opt.Problems()
    section = data["policy"] if data["policy"] is not None else {}
    policy = opt.parse_all(PolicyConfig, section, problems, path=("policy",), lines=lines)
    if policy is not None:
        host = _host_paths(policy, lines) if team else []
        for error in host:
            problems.add(error)
        said = {e.field for e in host}
        for error in policy_problems(policy, env_names, lines):
            if error.field not in said:  # "file not found" would repeat the path's problem
                problems.add(error)
    problems.raise_if_any()
    assert policy is not None  # parsed whenever there was no problem
    return policy


def read_file(path: str) -> PolicyDoc:
    """The policy in FILE (a config.yaml or a file with only `policy:`), checked before it
    may be stored; its environment names are checked when the file lists environments."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=name) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=name) from None
    data, lines = parse_yaml_text(text, name)
    policy = check(data, lines, env_names=_environment_names(data or {}), team=True)
    digest = digest_of(policy)
    section = _section_text(text)
    # What is stored must read back as the same policy: the cut-out text, or the data.
    if section is None or _digest_of_text(section) != digest:
        import yaml

        section = yaml.safe_dump({"policy": data["policy"]}, sort_keys=False)
    return PolicyDoc(policy, section, digest)


def _digest_of_text(text: str) -> str | None:
    try:
        data, lines = parse_yaml_text(text, "(section)")
        return digest_of(check(data, lines))
    except ConfigError:
        return None


def read_text(text: str, name: str) -> PolicyDoc:
    """A stored version's text, parsed and checked again (ConfigError when it is not a
    usable policy for this cockpit); its environments are not checked against this host's."""
    data, lines = parse_yaml_text(text, name)
    policy = check(data, lines)
    return PolicyDoc(policy, text, digest_of(policy))


@dataclass(frozen=True)
class LocalPolicy:
    """This host's own `policy:` section: whether there is one, and its digest."""

    written: bool
    digest: str = field(default="")

    @property
    def short(self) -> str:
        return self.digest[:SHORT]
