"""The demo connector passes the contract kit that third-party connectors run."""

from cockpit.testing import ConnectorContract
from connectors.demo import DemoConnector


class TestDemoContract(ConnectorContract):
    connector_class = DemoConnector
    options = {"seed": 3, "services": 5}
