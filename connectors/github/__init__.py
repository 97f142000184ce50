"""GitHub Actions connector: workflow runs, deployments, environment reviews and re-runs.

Registered as `github` under `cockpit.connectors`; see docs/connectors/github.md.
"""

from connectors.github.connector import GitHubConnector
from connectors.github.options import GitHubOptions, Repository

__all__ = ["GitHubConnector", "GitHubOptions", "Repository"]
