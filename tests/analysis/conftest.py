from __future__ import annotations

import pytest

from ashyq.analysis.fingerprints import PROJECT_FINGERPRINTS, load_fingerprints
from ashyq.analysis.verdict import JudgeContext
from ashyq.analysis.vocabulary import is_method


@pytest.fixture(scope="session")
def ctx() -> JudgeContext:
    """ashyq's own fingerprints only: the project's tests never need ../shared."""
    db = load_fingerprints([PROJECT_FINGERPRINTS])
    assert db.count >= 1 and not db.errors
    return JudgeContext(fingerprints=db)


def check(v) -> None:
    """Every verdict: a known status, a method of the vocabulary, evidence in words."""
    assert v.status in ("ok", "blocked", "throttled", "down", "inconclusive")
    assert is_method(v.method), v.method
    assert 0.0 <= v.confidence <= 1.0
    assert v.evidence and all(isinstance(e, str) and e for e in v.evidence)
