"""Fixtures of the lab tests: one lab network shared by the rule tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from lab_clients import lab_skip_reason

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def rules_scenario():
    from ashyq.lab.scenario import load

    return load(HERE / "rules.toml")


@pytest.fixture(scope="session")
def rules_net(rules_scenario):
    """The rules scenario's network, up for the whole session, with round 0's rules."""
    reason = lab_skip_reason()
    if reason:
        pytest.skip(reason)
    from ashyq.lab import network

    net = network.up(rules_scenario, with_control=False)
    try:
        yield net
    finally:
        net.close()
