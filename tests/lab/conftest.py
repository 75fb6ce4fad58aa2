"""Fixtures of the lab tests: one lab network shared by the rule tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from ashyq.lab.netns import missing_requirements

HERE = Path(__file__).parent


def lab_skip_reason() -> str | None:
    missing = missing_requirements()
    return ("the lab needs " + "; ".join(missing)) if missing else None


needs_lab = pytest.mark.skipif(lab_skip_reason() is not None, reason=lab_skip_reason() or "")


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
