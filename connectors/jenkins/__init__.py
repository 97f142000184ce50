"""Jenkins connector (wfapi, input steps); options and behaviour in docs/connectors/jenkins.md."""

from connectors.jenkins.connector import JenkinsConnector

__all__ = ["JenkinsConnector"]
