"""Prometheus: canary metric series (baseline vs canary) and SLO burn windows for the judge."""

from connectors.prometheus.connector import PrometheusConnector
from connectors.prometheus.options import (
    BurnOptions,
    CanaryOptions,
    MetricOptions,
    PrometheusOptions,
)

__all__ = [
    "BurnOptions",
    "CanaryOptions",
    "MetricOptions",
    "PrometheusConnector",
    "PrometheusOptions",
]
