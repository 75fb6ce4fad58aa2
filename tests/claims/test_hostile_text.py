"""Any input: the extractor never crashes, never points outside the input."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from ashyq.claims.extract import extract_report
from ashyq.claims.text import html_document

PIECES = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<script>",
        "</script>",
        "<!--",
        "-->",
        "&amp;",
        "&#0;",
        "&#x110000;",
        "&bogus;",
        "<",
        ">",
        "Facebook",
        "бұғатталды",
        "Алматыда",
        "заблокирован",
        "حجب",
        "يوتيوب",
        " ",
        "\n",
        ".",
        ",",
        "16 декабря",
        "кеше",
        "<style>a{}</style>",
        "<br/>",
        "<a href='javascript:alert(1)'>",
        "\x00",
        "Twitter still works",
        "ал",
        ";",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=8)), max_size=40))
def test_never_crashes_and_offsets_stay_inside(parts):
    raw = "".join(parts)
    for is_html in (False, True):
        report = extract_report(raw, dt.date(2024, 1, 1), is_html=is_html)
        for claim in report.claims:
            for e in claim.evidence:
                assert 0 <= e.start <= e.end <= len(raw)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_html_text_maps_back(raw):
    doc = html_document(raw)
    assert len(doc.text) == len(doc.starts) == len(doc.ends)
    for s, e in zip(doc.starts, doc.ends, strict=True):
        assert 0 <= s <= e <= len(raw)


def test_impossible_declared_date_is_ignored():
    raw = '<html><meta property="article:published_time" content="2019-13-45"><p>Hi.</p></html>'
    assert extract_report(raw, None).published is None
