"""Prometheus: canary metric series (baseline vs canary) for the cockpit's judge."""

from connectors.prometheus.connector import PrometheusConnector
from connectors.prometheus.options import CanaryOptions, MetricOptions, PrometheusOptions

__all__ = ["CanaryOptions", "MetricOptions", "PrometheusConnector", "PrometheusOptions"]
