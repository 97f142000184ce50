"""Release Cockpit: the core (model, config, hub, policy, audit, judge, CLI) and the app."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
