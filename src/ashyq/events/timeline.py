"""One target's history per network as text (pure)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


def render(target: str, rows: list[dict[str, Any]]) -> str:
    """Rows: verdict dicts in time order. One block per network, one line per run."""
    if not rows:
        return f"{target}: no verdicts in the store\n"
    nets: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        key = (r.get("probe_cc") or "?", r.get("probe_asn") or "?", r.get("region") or "")
        nets[key].append(r)
    out = [f"{target}: {len(rows)} verdicts on {len(nets)} networks (times UTC)"]
    for (cc, asn, region), items in sorted(nets.items()):
        name = next((r["probe_network_name"] for r in items if r.get("probe_network_name")), "")
        label = f"{cc} {asn}" + (f" {name}" if name else "") + (f" — {region}" if region else "")
        out.append("")
        out.append(label)
        runs: list[list[dict[str, Any]]] = []
        for r in items:
            if runs and runs[-1][0]["status"] == r["status"]:
                runs[-1].append(r)
            else:
                runs.append([r])
        for run in runs:
            t0 = str(run[0]["measurement_start_time"])[:16]
            t1 = str(run[-1]["measurement_start_time"])[:16]
            methods = sorted({r["method"] for r in run if r.get("method")})
            span = t0 if t0 == t1 else f"{t0} .. {t1}"
            mark = {"ok": " ", "blocked": "X", "throttled": "~", "down": "-"}.get(
                run[0]["status"], "?"
            )
            out.append(
                f"  {mark} {span:<36} {run[0]['status']:<12} ×{len(run):<5}"
                + (" " + ", ".join(methods) if methods else "")
            )
    return "\n".join(out) + "\n"
