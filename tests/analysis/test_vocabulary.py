from __future__ import annotations

import re
from pathlib import Path

from ashyq.analysis.vocabulary import METHODS, SUFFIXED, is_method, meaning

DOC = Path(__file__).resolve().parents[2] / "docs" / "verdicts.md"


def test_docs_list_exactly_the_vocabulary():
    text = DOC.read_text(encoding="utf-8")
    text = text.split("## Method vocabulary", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `([a-z_]+\.[a-z_]+)(?::<name>)?` \| (.+?) \|$", text, re.M))
    assert set(rows) == set(METHODS)
    for k, v in METHODS.items():
        assert rows[k] == v


def test_is_method():
    assert is_method(None) and is_method("tls.timeout") and is_method("dns.fingerprint:ooni.ir_5")
    assert not is_method("dns.fingerprint") and not is_method("http.blockpage:")
    assert not is_method("tls.nonsense") and not is_method("tcp.timeout:x")
    assert all(k in METHODS for k in SUFFIXED)
    assert meaning("http.blockpage:x") == METHODS["http.blockpage"]
