"""The judgement: one ``Verdict`` per measurement, a pure function of the measurement.

Entry points (no I/O, no network):

- ``judge(measurement, *, context=None) -> Verdict``
- ``judge_all(measurements, *, context=None, fingerprints=None) -> list[Verdict]``: computes the
  per-network baselines (probe ASN + region) of download speed and TLS handshake time across
  targets, then judges each measurement against them.
- ``iter_verdicts(measurements, context)``: the streaming form used by ``ashyq analyze``.
- ``RULE_VERSION``: which rules produced a verdict (stored with it, for re-analysis).

A measurement that cannot be read (not a dict, broken structure) gets an ``inconclusive``
verdict with method ``measurement.malformed``: judging never raises on data.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ashyq.analysis import apps
from ashyq.analysis.finding import Finding
from ashyq.analysis.fingerprints import FingerprintDB, default_fingerprints
from ashyq.analysis.model import Verdict
from ashyq.analysis.observations import throughput_kbit_s, tls_handshake_seconds
from ashyq.analysis.web import Baseline, judge_web, split_url

RULE_VERSION = "ashyq-rules-2026.11.2"

#: at least this many other targets measured from the network make a baseline
BASELINE_MIN_TARGETS = 3
#: per network and target, keep at most this many samples (constant memory on huge inputs)
BASELINE_MAX_SAMPLES = 64

NetworkKey = tuple[str | None, str | None]  # (probe_asn, region)


@dataclass
class NetworkBaselines:
    """Per network, per target: speeds and TLS handshake times seen (bounded samples)."""

    kbit: dict[NetworkKey, dict[str, list[float]]] = field(default_factory=dict)
    tls: dict[NetworkKey, dict[str, list[float]]] = field(default_factory=dict)
    _cache: dict[tuple[NetworkKey, str | None], Baseline | None] = field(default_factory=dict)

    def add(self, m: Any) -> None:
        """Record what one measurement says about its network (ignores what it cannot read)."""
        if not isinstance(m, dict) or m.get("test_name") != "web_connectivity":
            return
        tk = m.get("test_keys")
        if not isinstance(tk, dict):
            return
        key = network_key(m)
        target = target_of(m) or ""
        k = throughput_kbit_s(tk)
        if k is not None:
            _push(self.kbit.setdefault(key, {}).setdefault(target, []), k)
        s = tls_handshake_seconds(tk, target or None)
        if s is not None:
            _push(self.tls.setdefault(key, {}).setdefault(target, []), s)
        self._cache.clear()

    def for_measurement(self, m: dict[str, Any]) -> Baseline | None:
        key = network_key(m)
        target = target_of(m)
        ck = (key, target)
        if ck in self._cache:
            return self._cache[ck]
        kb = _median_of_others(self.kbit.get(key), target)
        tl = _median_of_others(self.tls.get(key), target)
        b = None
        if kb[0] is not None or tl[0] is not None:
            b = Baseline(kbit_s=kb[0], tls_seconds=tl[0], targets=max(kb[1], tl[1]))
        self._cache[ck] = b
        return b


def _push(samples: list[float], value: float) -> None:
    if len(samples) < BASELINE_MAX_SAMPLES:
        samples.append(value)
    else:  # deterministic thinning: replace by position so memory stays bounded
        samples[int(value * 1000) % BASELINE_MAX_SAMPLES] = value


def _median_of_others(
    per_target: dict[str, list[float]] | None, target: str | None
) -> tuple[float | None, int]:
    if not per_target:
        return None, 0
    medians = [statistics.median(v) for t, v in per_target.items() if t != (target or "") and v]
    if len(medians) < BASELINE_MIN_TARGETS:
        return None, len(medians)
    return statistics.median(medians), len(medians)


@dataclass
class JudgeContext:
    """What a judgement may use besides the measurement: fingerprints and network baselines."""

    fingerprints: FingerprintDB | None = None
    baselines: NetworkBaselines | None = None
    #: an explicit baseline per network, e.g. from the store (overrides computed ones)
    fixed_baselines: Mapping[NetworkKey, Baseline] | None = None

    def baseline_for(self, m: dict[str, Any]) -> Baseline | None:
        if self.fixed_baselines:
            b = self.fixed_baselines.get(network_key(m))
            if b is not None:
                return b
        if self.baselines is not None:
            return self.baselines.for_measurement(m)
        return None


def network_key(m: dict[str, Any]) -> NetworkKey:
    asn = m.get("probe_asn")
    ann = m.get("annotations")
    region = ann.get("region") if isinstance(ann, dict) else None
    return (
        asn if isinstance(asn, str) else None,
        region if isinstance(region, str) and region else None,
    )


def target_of(m: dict[str, Any]) -> str | None:
    test = m.get("test_name")
    if isinstance(test, str) and test in apps.APP_TARGETS:
        return apps.APP_TARGETS[test]
    url = m.get("input")
    if isinstance(url, list):  # meek lists its inputs
        return None
    if not isinstance(url, str) or not url:
        return None
    return split_url(url)[0]


def _str(x: Any) -> str | None:
    return x if isinstance(x, str) and x else None


def measurement_uid(m: dict[str, Any]) -> str:
    uid = _str(m.get("measurement_uid"))
    if uid:
        return uid
    basis = "|".join(
        str(m.get(k) or "") for k in ("report_id", "input", "measurement_start_time", "test_name")
    )
    return "h_" + hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()[:24]


def _finding(m: dict[str, Any], context: JudgeContext) -> Finding:
    test = m.get("test_name")
    tk = m.get("test_keys")
    if not isinstance(tk, dict):
        return Finding(
            "inconclusive",
            "probe.failure",
            0.0,
            ["the measurement has no test results (test_keys is empty)"],
        )
    if test == "web_connectivity":
        fps = context.fingerprints
        return judge_web(m, tk, fps, context.baseline_for(m))
    rule = apps.RULES.get(test) if isinstance(test, str) else None
    if rule is None:
        return Finding(
            "inconclusive",
            "test.unknown",
            0.0,
            [f"no rules for the test {test!r}; the measurement is kept as it is"],
        )
    return rule(tk)


_DEFAULT_CONTEXT: JudgeContext | None = None


def default_context() -> JudgeContext:
    """Fingerprints from $ASHYQ_FINGERPRINTS plus the project's own; no baselines."""
    global _DEFAULT_CONTEXT
    if _DEFAULT_CONTEXT is None:
        _DEFAULT_CONTEXT = JudgeContext(fingerprints=default_fingerprints())
    return _DEFAULT_CONTEXT


def judge(measurement: dict[str, Any], *, context: JudgeContext | None = None) -> Verdict:
    """The verdict on one measurement (any OONI test, any version; never raises on data)."""
    ctx = context if context is not None else default_context()
    m = measurement if isinstance(measurement, dict) else {}
    try:
        f = _finding(m, ctx) if m else None
    except (AttributeError, TypeError, ValueError, KeyError, IndexError, RecursionError) as exc:
        f = Finding(
            "inconclusive",
            "measurement.malformed",
            0.0,
            [f"the measurement's structure could not be read ({type(exc).__name__})"],
        )
    if f is None:
        f = Finding(
            "inconclusive",
            "measurement.malformed",
            0.0,
            ["the measurement is not a JSON object with test results"],
        )
    return _dress(m, f)


def _dress(m: dict[str, Any], f: Finding) -> Verdict:
    ann = m.get("annotations")
    region = ann.get("region") if isinstance(ann, dict) else None
    inp = m.get("input")
    return Verdict(
        measurement_uid=measurement_uid(m),
        report_id=_str(m.get("report_id")),
        input=inp if isinstance(inp, str) else (None if inp is None else str(inp)),
        target=target_of(m),
        test_name=m.get("test_name") if isinstance(m.get("test_name"), str) else "unknown",
        probe_cc=_str(m.get("probe_cc")),
        probe_asn=_str(m.get("probe_asn")),
        probe_network_name=_str(m.get("probe_network_name")),
        region=_str(region),
        measurement_start_time=_str(m.get("measurement_start_time")),
        status=f.status,  # type: ignore[arg-type]
        method=f.method,
        confidence=round(float(f.confidence), 3),
        evidence=tuple(f.evidence),
        ooni_blocking=f.ooni_blocking,
        ooni_accessible=f.ooni_accessible,
        rule_version=RULE_VERSION,
        details=f.details,
    )


def compute_baselines(measurements: Iterable[Any]) -> NetworkBaselines:
    nb = NetworkBaselines()
    for m in measurements:
        nb.add(m)
    return nb


def judge_all(
    measurements: Iterable[dict[str, Any]],
    *,
    context: JudgeContext | None = None,
    fingerprints: FingerprintDB | None = None,
) -> list[Verdict]:
    """Judge many measurements with per-network baselines computed from them."""
    ms = list(measurements)
    base = context if context is not None else default_context()
    ctx = JudgeContext(
        fingerprints=fingerprints if fingerprints is not None else base.fingerprints,
        baselines=compute_baselines(ms),
        fixed_baselines=base.fixed_baselines,
    )
    return [judge(m, context=ctx) for m in ms]


def iter_verdicts(
    measurements: Iterable[dict[str, Any]], context: JudgeContext | None = None
) -> Iterator[Verdict]:
    """Judge a stream one by one (baselines, if any, come from ``context``)."""
    ctx = context if context is not None else default_context()
    for m in measurements:
        yield judge(m, context=ctx)
