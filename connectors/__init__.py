"""Connector plugins shipped with the cockpit: the reference implementations of the contract."""
