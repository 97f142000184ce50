"""Alertmanager (API v2): firing and pending alerts with silences; silence and expire actions."""

from connectors.alertmanager.connector import AlertmanagerConnector
from connectors.alertmanager.options import AlertmanagerOptions

__all__ = ["AlertmanagerConnector", "AlertmanagerOptions"]
