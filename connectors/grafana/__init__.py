"""Grafana: annotations read for the timeline, and one written after each successful action."""

from connectors.grafana.connector import GrafanaConnector
from connectors.grafana.options import GrafanaOptions

__all__ = ["GrafanaConnector", "GrafanaOptions"]
