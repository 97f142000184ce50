"""GitLab connector (REST v4); options and behaviour in docs/connectors/gitlab.md."""

from connectors.gitlab.connector import GitLabConnector

__all__ = ["GitLabConnector"]
