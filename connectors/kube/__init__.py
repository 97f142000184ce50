"""Kubernetes API access shared by the Kubernetes, Argo Rollouts and Flagger connectors."""
