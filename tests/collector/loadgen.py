"""Load for the collector from another process: batches and single OONI-style submissions.
Writes every acknowledged uid to ACKFILE, one per line, as soon as it is acknowledged.
Usage: python loadgen.py URL ACKFILE TAG"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

from tests.collector.helpers import measurement


def post(url: str, body: object) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def main() -> None:
    url, ackfile, tag = sys.argv[1], sys.argv[2], sys.argv[3]
    i = 0
    with open(ackfile, "a") as acks:
        try:
            report = post(
                url + "/report",
                {"probe_cc": "KZ", "probe_asn": "AS9198", "test_name": "web_connectivity"},
            )["report_id"]
            while i < 200_000:
                batch = [measurement(i + k, tag) for k in range(100)]
                i += 100
                out = post(url + "/api/v1/measurements", {"measurements": batch})
                for r in out["results"]:
                    if r["status"] in ("added", "duplicate"):
                        acks.write(r["measurement_uid"] + "\n")
                one = measurement(i, tag, report_id="")
                i += 1
                r = post(f"{url}/report/{report}", {"format": "json", "content": one})
                acks.write(r["measurement_uid"] + "\n")
                acks.flush()
        except (urllib.error.URLError, ConnectionError, OSError):
            pass  # the collector was killed


if __name__ == "__main__":
    main()
