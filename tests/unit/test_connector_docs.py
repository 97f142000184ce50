"""`cockpit connectors` documents every option: help, readable types, and a JSON Schema."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jsonschema
import pytest
import yaml

from cockpit import config
from cockpit.connect import plugins
from cockpit.connect.connector_docs import default_text, options_schema, type_text, undocumented
from cockpit.connect.option_help import REQUIRED
from cockpit.connect.options import Duration, Secret
from tests.cli import cockpit

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "config" / "every_connector.yaml"


def _loaded() -> dict[str, Any]:
    return {name: plugins.load(name) for name in sorted(plugins.installed())}


@pytest.mark.parametrize("name", sorted(plugins.installed()))
def test_every_option_of_every_registered_connector_has_help(name: str) -> None:
    """A new option without `metadata={"help": ...}` fails here, nested ones included."""
    assert undocumented(plugins.load(name).Options) == []


@dataclass
class _Metric:
    query: str = field(metadata={"help": "PromQL"})
    unit: str = ""


@dataclass
class _Undocumented:
    url: str = field(metadata={"help": "where"})
    metrics: list[_Metric] = field(default_factory=list, metadata={"help": "what"})
    stream: bool = True


def test_an_option_without_help_is_named_with_its_dotted_key() -> None:
    assert undocumented(_Undocumented) == ["metrics[].unit", "stream"]


def test_types_read_as_an_operator_writes_them() -> None:
    assert type_text(Secret | None) == "secret"
    assert type_text(Duration) == "duration"
    assert type_text(list[str]) == "list of strings"
    assert type_text(list[Duration]) == "list of durations"
    assert type_text(int) == "int"
    assert type_text(bool) == "bool"
    assert type_text(str, "url") == "url"
    assert type_text(dict[str, str]) == "mapping of string to string"
    assert type_text(Literal["private-token", "bearer"]) == "one of private-token, bearer"


def test_defaults_read_as_config_writes_them() -> None:
    assert default_text(Duration(1800)) == "default 30m"
    assert default_text(Duration(0.5)) == "default 500ms"
    assert default_text(True) == "default true"
    assert default_text(["service", "app"]) == "default [service, app]"
    assert default_text("") == 'default ""'
    assert default_text(None) == "optional"
    assert default_text(REQUIRED) == "required"


def test_connectors_prints_each_option_with_its_help_and_readable_type(tmp_path: Path) -> None:
    out = cockpit("connectors", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "    token  (secret, required)\n        A token that reads Actions" in text
    assert "    lookback  (duration, default 30m)\n        The window read when" in text
    assert "    base_url  (url, default https://api.github.com)" in text
    assert "    workflows  (list of strings, default [])" in text
    assert "    canaries[].metrics[].direction  (one of increase, decrease, either" in text
    assert "Secret" not in text and "1800" not in text and "(no help given)" not in text


def test_connectors_json_carries_a_valid_draft_2020_12_schema_per_type(tmp_path: Path) -> None:
    out = cockpit("connectors", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = {row["type"]: row for row in json.loads(out.stdout)}
    for name, row in rows.items():
        schema = row["schema"]
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["additionalProperties"] is False
    github = rows["github"]["schema"]
    assert github["required"] == ["token", "repositories"]
    assert github["properties"]["runs_per_repo"] == {
        "description": "Recent workflow runs read per repository (1 to 100, GitHub's page size).",
        "type": "integer",
        "default": 20,
    }
    gitlab = rows["gitlab"]["schema"]["properties"]["auth"]
    assert gitlab["enum"] == ["private-token", "bearer"]
    assert rows["prometheus"]["schema"]["properties"]["lookback"]["default"] == "30m"


def test_a_sample_config_validates_against_the_schema_and_loads() -> None:
    """The schema and the parser agree: what one accepts, the other does."""
    data = yaml.safe_load(SAMPLE.read_text())
    classes = _loaded()
    seen = set()
    for entry in data["connectors"]:
        schema = options_schema(entry["type"], classes[entry["type"]])
        jsonschema.Draft202012Validator(schema).validate(entry.get("options", {}))
        seen.add(entry["type"])
    assert seen == set(classes)
    settings = config.load(str(SAMPLE), env={}, resolve_secrets=False)
    assert {s.type for s in settings.connectors} == seen


@pytest.mark.parametrize(
    ("type_name", "options", "why"),
    [
        ("github", {"token": "env:T", "repositories": ["a/b"], "branchh": "x"}, "branchh"),
        ("github", {"repositories": ["a/b"]}, "'token' is a required property"),
        ("github", {"token": "ghp_pasted_value", "repositories": ["a/b"]}, "does not match"),
        ("gitlab", {"token": "env:T", "projects": ["g/p"], "auth": "basic"}, "is not one of"),
        ("prometheus", {"url": "http://p:9090", "lookback": "half an hour"}, "lookback"),
    ],
)
def test_the_schema_refuses_what_config_refuses(type_name: str, options: object, why: str) -> None:
    schema = options_schema(type_name, plugins.load(type_name))
    with pytest.raises(jsonschema.ValidationError) as err:
        jsonschema.Draft202012Validator(schema).validate(options)
    assert why in str(err.value)
