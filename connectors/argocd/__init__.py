"""Argo CD connector: applications as deployments, drift, sync windows, sync and rollback."""

from connectors.argocd.connector import ArgoCDConnector
from connectors.argocd.options import ArgoCDOptions

__all__ = ["ArgoCDConnector", "ArgoCDOptions"]
