"""Finding and loading connector plugins from the `cockpit.connectors` entry-point group."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from cockpit.connector import Connector, contract_problems
from cockpit.errors import PluginError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

GROUP = "cockpit.connectors"


class PluginInfo(NamedTuple):
    """A connector type found as an installed entry point, and the package it came from."""

    name: str
    target: str  # module:attribute
    distribution: str
    version: str


# The connectors shipped with the cockpit: the `connectors` package installed beside it.
SHIPPED = Path(__file__).resolve().parents[2] / "connectors"


def shipped(cls: type) -> bool:
    """Whether `cls` is one of the cockpit's own connectors, not a third party's: its module
    is a file inside the `connectors` package installed beside `cockpit`."""
    file = getattr(sys.modules.get(cls.__module__), "__file__", None)
    return file is not None and Path(file).resolve().is_relative_to(SHIPPED)


# The demo needs no discovery: `cockpit` with no config starts without scanning every
# installed distribution's metadata (tens of milliseconds on a big environment).
BUILTIN = {"demo": "connectors.demo:DemoConnector"}


class Builtin:
    """A connector of ours, addressed like an entry point without reading any metadata."""

    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value

    def load(self) -> Any:
        module, _, attr = self.value.partition(":")
        return getattr(importlib.import_module(module), attr)


def for_types(names: set[str]) -> dict[str, Any]:
    """Entry points covering `names`; scans installed metadata only when it must."""
    if names and names <= BUILTIN.keys():
        return {n: Builtin(n, BUILTIN[n]) for n in names}
    return installed()


def installed() -> dict[str, EntryPoint]:
    """Entry points by connector type name. Imports nothing; the last duplicate wins."""
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=GROUP)}


def info(ep: EntryPoint) -> PluginInfo:
    dist = ep.dist
    return PluginInfo(
        name=ep.name,
        target=ep.value,
        distribution=dist.metadata["Name"] if dist else "?",
        version=dist.version if dist else "?",
    )


def load(name: str, eps: dict[str, Any] | None = None) -> type[Connector]:
    """Import one connector class and check it against the contract.

    Raises PluginError (naming the plugin and the cause) when the module fails to import or
    the class does not honour the contract. KeyError when no such type is installed.
    """
    eps = installed() if eps is None else eps
    ep = eps[name]
    try:
        cls = ep.load()
    except Exception as exc:  # a third party's import can fail in any way
        raise PluginError(
            f"connector {name!r} ({ep.value}) failed to import: {type(exc).__name__}: {exc}"
        ) from exc
    problems = contract_problems(cls)
    if problems:
        raise PluginError(f"connector {name!r} ({ep.value}) refused: " + "; ".join(problems))
    connector: type[Connector] = cls
    return connector
