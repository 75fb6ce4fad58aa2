"""`ashyq demo`: the 9 May 2019 scenario end to end, as `make demo` runs it."""

from __future__ import annotations

import pytest
from lab_clients import lab_skip_reason

from ashyq.cli import main

pytestmark = pytest.mark.lab


@pytest.mark.timeout(300)
def test_demo_runs_end_to_end(tmp_path, capsys):
    reason = lab_skip_reason()
    if reason:
        pytest.skip(reason)
    assert main(["demo", "--data", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    out = captured.out
    # a readable report: every round, every vantage point, verdicts beside the ground truth
    for when in ("2019-05-09 06:00 UTC", "2019-05-09 10:00 UTC", "2019-05-09 14:00 UTC"):
        assert when in out
    assert out.count("truth: shutdown") == 7  # Shymkent, 7 sites, during the march
    assert "AS29355  Almaty" in out and "AS9198   Shymkent" in out
    assert "Against the ground truth:" in out and "of 49 censored cases" in out
    from ashyq.store.store import Store

    with Store.open(tmp_path, read_only=True) as store:
        stats = store.stats()
    assert stats["measurements"] == 63, stats
    assert "collector listening" in captured.err
    assert "Events found in the store" in out
    assert "The dashboard answered at http://127.0.0.1:" in out
