"""Conformance with OONI's QA verdicts and real measurements (reads ../shared; skips without)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from tests.analysis.conftest import check

from ashyq.analysis.fingerprints import PROJECT_FINGERPRINTS, load_fingerprints
from ashyq.analysis.verdict import JudgeContext, judge

DOC = Path(__file__).resolve().parents[2] / "docs" / "conformance.md"
ROW = re.compile(
    r"^\|\s*`(\w+)`\s*\|[^|]*\|\s*`(\w+)`,\s*`([\w.:-]+)`,\s*`?([\w\"-]+)`?,\s*`?(\w+)`?"
)


def allow_list() -> dict[str, tuple[str, str, object, object]]:
    out = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if m:
            out[m.group(1)] = (
                m.group(2),
                m.group(3),
                json.loads(m.group(4)),
                json.loads(m.group(5)),
            )
    return out


@pytest.fixture(scope="module")
def ooni_ctx(shared_dir):
    db = load_fingerprints([shared_dir / "research/ooni/fingerprints", PROJECT_FINGERPRINTS])
    assert db.count > 1900 and not db.errors
    return JudgeContext(fingerprints=db)


def test_allow_list_is_read():
    allowed = allow_list()
    assert set(allowed) == {
        "tlsBlockingConnectionResetWithInconsistentDNS",
        "httpDiffWithInconsistentDNS",
    }


def test_qa_measurements_agree_with_ooni_except_listed(shared_dir, ooni_ctx):
    qa = shared_dir / "research/ooni/wc_qa_generated"
    rows = list(csv.DictReader((qa / "expected_verdicts.csv").open()))
    assert len(rows) == 27
    allowed = allow_list()
    disagreements = {}
    for row in rows:
        m = json.loads((qa / f"{row['scenario']}.measurement.json").read_text())
        v = judge(m, context=ooni_ctx)
        check(v)
        expected = (json.loads(row["blocking"]), json.loads(row["accessible"]))
        got = (v.ooni_blocking, v.ooni_accessible)
        if got != expected:
            disagreements[row["scenario"]] = (v.status, v.method, *got)
    assert disagreements == allowed


def test_qa_without_ooni_fingerprints_still_agrees(shared_dir, ctx):
    qa = shared_dir / "research/ooni/wc_qa_generated"
    rows = list(csv.DictReader((qa / "expected_verdicts.csv").open()))
    allowed = allow_list()
    for row in rows:
        v = judge(json.loads((qa / f"{row['scenario']}.measurement.json").read_text()), context=ctx)
        if row["scenario"] not in allowed:
            assert (v.ooni_blocking, v.ooni_accessible) == (
                json.loads(row["blocking"]),
                json.loads(row["accessible"]),
            ), row["scenario"]


def test_all_fastpath_fixtures_get_a_verdict(shared_dir, ooni_ctx):
    files = sorted((shared_dir / "research/ooni/fastpath_fixtures").glob("*.json"))
    assert len(files) == 43
    tests = set()
    for f in files:
        v = judge(json.loads(f.read_text()), context=ooni_ctx)
        check(v)
        tests.add(v.test_name)
    assert {"web_connectivity", "whatsapp", "telegram", "signal", "tor", "vanilla_tor"} <= tests


def test_iran_fingerprint_is_confirmed(shared_dir, ooni_ctx):
    m = json.loads(
        (shared_dir / "research/ooni/fastpath_fixtures/web_connectivity_ir_fp.json").read_text()
    )
    v = judge(m, context=ooni_ctx)
    assert (v.status, v.method) == ("blocked", "dns.fingerprint:ooni.ir_10dot10_ipv4_1")
    assert v.details["confirmed"] is True and v.confidence == 1.0
    assert v.ooni_blocking == "dns" and v.probe_cc == "IR"
    assert any("10.10.34.36" in e for e in v.evidence)


FASTPATH_ROW = re.compile(r"^\|\s*`([\w.-]+\.json)`\s*\|")


def test_fastpath_web_connectivity_agrees_with_the_probes_flags_except_listed(shared_dir, ooni_ctx):
    listed = {
        m.group(1)
        for line in DOC.read_text(encoding="utf-8").splitlines()
        if (m := FASTPATH_ROW.match(line))
    }
    assert "bug_351.json" in listed
    differ = set()
    compared = 0
    for f in sorted((shared_dir / "research/ooni/fastpath_fixtures").glob("*.json")):
        m = json.loads(f.read_text())
        if not isinstance(m, dict) or m.get("test_name") != "web_connectivity":
            continue
        tk = m.get("test_keys") or {}
        v = judge(m, context=ooni_ctx)
        compared += 1
        if (v.ooni_blocking, v.ooni_accessible) != (tk.get("blocking"), tk.get("accessible")):
            differ.add(f.name)
    assert compared == 16
    assert differ == listed
