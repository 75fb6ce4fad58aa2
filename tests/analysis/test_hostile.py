"""Malformed and truncated measurements: a clear error or an inconclusive verdict, no crash."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.analysis.builders import make_wc
from tests.analysis.conftest import check

from ashyq.analysis.reading import ReadError, Record, iter_measurements_from_bytes
from ashyq.analysis.verdict import judge, judge_all

BASE = make_wc(throughput={"kbit_s": 100.0, "bytes": 1000, "seconds": 1.0}, control_kbit_s=900.0)
HTTP_BASE = make_wc("http://vlast.kz/", body="<title>x</title>", headers={})

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from paths(v, (*prefix, i))


ALL_PATHS = [p for p in paths(BASE) if p] + [p for p in paths(HTTP_BASE) if p]


def replace(obj, path, value):
    obj = copy.deepcopy(obj)
    cur = obj
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value
    return obj


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ALL_PATHS), json_values, st.booleans())
def test_any_field_replaced_by_any_value(path, value, http):
    base = HTTP_BASE if http else BASE
    try:
        m = replace(base, path, value)
    except (KeyError, IndexError, TypeError):
        return
    v = judge(m)
    check(v)
    # a wrong type in one field is treated as absent, not as a broken measurement
    assert v.method != "measurement.malformed", (path, value)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_arbitrary_objects(obj):
    obj.setdefault("test_name", "web_connectivity")
    check(judge(obj))
    check(judge_all([obj, obj])[0])


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=len(json.dumps(BASE)) - 1))
def test_truncated_lines_give_one_error_each(cut):
    good = json.dumps(BASE).encode()
    data = good + b"\n" + good[:cut] + b"\n" + good + b"\n"
    out = iter_measurements_from_bytes(data, "t.jsonl")
    recs = [r for r in out if isinstance(r, Record)]
    errs = [r for r in out if isinstance(r, ReadError)]
    assert len(recs) == 2
    if cut > 0:
        assert len(errs) == 1 and errs[0].line == 2 and errs[0].message
    for r in recs:
        check(judge(r.measurement))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_reader(data):
    for r in iter_measurements_from_bytes(data, "junk"):
        if isinstance(r, Record):
            check(judge(r.measurement))
        else:
            assert str(r).startswith("junk")
