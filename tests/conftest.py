"""Fixtures shared by every test area."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """`../shared` beside the checkout; tests that need it skip cleanly where it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"reference data not found at {SHARED} (../shared beside the checkout)")
    return SHARED


@pytest.fixture(autouse=True, scope="session")
def _account_key_outside_home(tmp_path_factory: pytest.TempPathFactory):
    """The secret key for hashed incident accounts goes to a temporary file, not ~/.config."""
    import os

    path = tmp_path_factory.mktemp("config") / "account.key"
    old = os.environ.get("ASHYQ_ACCOUNT_KEY_FILE")
    os.environ["ASHYQ_ACCOUNT_KEY_FILE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("ASHYQ_ACCOUNT_KEY_FILE", None)
    else:
        os.environ["ASHYQ_ACCOUNT_KEY_FILE"] = old
