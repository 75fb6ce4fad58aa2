"""Alerts: a rule (target, category, network, region, kinds) watches the events; when a
matching event starts, and again when it ends, a JSON webhook POST and an e-mail are sent.

``matches`` and ``message`` are pure; ``run_once`` does the I/O and records every delivery in
the web state so that nothing is sent twice, and a failed delivery is retried on the next run.
"""

from __future__ import annotations

import asyncio
import json
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import aiohttp

from ashyq.web import queries
from ashyq.web.state import AlertRule, WebState

LOOKBACK = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 25
    sender: str = "ashyq@localhost"
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 20.0


@dataclass
class RunResult:
    sent: list[tuple[int, str, str, str]] = field(default_factory=list)  # rule, event, phase, ch
    failed: list[tuple[int, str, str, str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"sent": len(self.sent), "failed": [list(f) for f in self.failed]}


def matches(rule: AlertRule, event: Mapping[str, Any], categories: Mapping[str, str]) -> bool:
    """Whether ``event`` is one this rule watches (an empty rule field matches anything)."""
    if rule.kinds and event.get("kind") not in rule.kinds:
        return False
    target = event.get("target")
    if rule.target and target != rule.target:
        return False
    if rule.category and (not target or categories.get(target) != rule.category):
        return False
    if rule.network and rule.network not in (event.get("asns") or []):
        return False
    return not (rule.region and rule.region not in (event.get("regions") or []))


def phases_due(event: Mapping[str, Any]) -> tuple[str, ...]:
    """'start' for every event, and 'end' once the event has ended."""
    return ("start", "end") if event.get("end") is not None else ("start",)


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return None if value is None else str(value)


def payload(rule: AlertRule, event: Mapping[str, Any], phase: str, base_url: str) -> dict[str, Any]:
    """The JSON body of a webhook (and the facts of the e-mail)."""
    event_id = str(event["event_id"])
    return {
        "type": f"event.{phase}",
        "rule": {"id": rule.rule_id, "name": rule.name},
        "event": {
            "id": event_id,
            "kind": event.get("kind"),
            "target": event.get("target"),
            "scope": event.get("scope"),
            "networks": list(event.get("asns") or []),
            "regions": list(event.get("regions") or []),
            "methods": list(event.get("methods") or []),
            "start": _iso(event.get("start")),
            "end": _iso(event.get("end")),
            "measurements": event.get("measurements"),
            "confidence": event.get("confidence"),
        },
        "report": f"{base_url.rstrip('/')}/events/{event_id}/report.html",
    }


def message(
    rule: AlertRule, event: Mapping[str, Any], phase: str, base_url: str
) -> tuple[str, str]:
    """Subject and plain-text body of the e-mail."""
    body = payload(rule, event, phase, base_url)
    ev = body["event"]
    what = ev["target"] or "all targets"
    nets = ", ".join(ev["networks"]) or "all networks"
    where = ", ".join(ev["regions"]) or "Kazakhstan"
    verb = "started" if phase == "start" else "ended"
    subject = f"[ashyq] {ev['kind']} of {what} {verb} ({nets})"
    lines = [
        f"Rule: {rule.name} (#{rule.rule_id})",
        f"Event: {ev['kind']} of {what}, {verb}",
        f"Networks: {nets}",
        f"Regions: {where}",
        f"Methods: {', '.join(ev['methods']) or '-'}",
        f"Start (UTC): {ev['start']}",
        f"End (UTC): {ev['end'] or 'ongoing'}",
        f"Failing measurements: {ev['measurements']}",
        f"Evidence report: {body['report']}",
    ]
    return subject, "\n".join(lines) + "\n"


def send_email(config: SmtpConfig, to: str, subject: str, text: str) -> None:
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(text)
    with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
        if config.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if config.user and config.password:
            smtp.login(config.user, config.password)
        smtp.send_message(msg)


async def send_webhook(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> None:
    async with session.post(
        url,
        data=json.dumps(body),
        headers={"Content-Type": "application/json", "User-Agent": "ashyq-alerts"},
        timeout=aiohttp.ClientTimeout(total=20),
        allow_redirects=False,
    ) as response:
        if response.status >= 300:
            raise RuntimeError(f"webhook answered HTTP {response.status}")


async def run_once(
    store: Any,
    state: WebState,
    *,
    smtp: SmtpConfig | None,
    base_url: str,
    now: datetime | None = None,
) -> RunResult:
    """Send what is due for every enabled rule; safe to run as often as wanted."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    rules = state.rules(enabled_only=True)
    result = RunResult()
    if not rules:
        return result
    oldest = min(datetime.strptime(r.created_at, "%Y-%m-%d %H:%M:%S") for r in rules)

    def load() -> list[dict[str, Any]]:
        with store.connect() as con:
            return queries.events(con, queries.EventFilter(since=oldest - LOOKBACK))

    events = await asyncio.to_thread(load)
    categories = state.categories()
    async with aiohttp.ClientSession() as session:
        for rule in rules:
            created = datetime.strptime(rule.created_at, "%Y-%m-%d %H:%M:%S")
            for ev in events:
                if not matches(rule, ev, categories):
                    continue
                end = ev.get("end")
                if end is not None and end < created - LOOKBACK:
                    continue  # over long before the rule existed
                for phase in phases_due(ev):
                    channels: list[str] = []
                    if rule.webhook_url:
                        channels.append("webhook")
                    if rule.email and smtp is not None:
                        channels.append("email")
                    for channel in channels:
                        eid = str(ev["event_id"])
                        if state.delivered(rule.rule_id, eid, phase, channel):
                            continue
                        try:
                            if channel == "webhook":
                                body = payload(rule, ev, phase, base_url)
                                await send_webhook(session, str(rule.webhook_url), body)
                            else:
                                assert smtp is not None
                                subject, text = message(rule, ev, phase, base_url)
                                await asyncio.to_thread(
                                    send_email, smtp, str(rule.email), subject, text
                                )
                        except Exception as exc:
                            error = f"{type(exc).__name__}: {exc}"[:300]
                            state.record_delivery(rule.rule_id, eid, phase, channel, False, error)
                            result.failed.append((rule.rule_id, eid, phase, channel, error))
                        else:
                            state.record_delivery(rule.rule_id, eid, phase, channel, True, None)
                            result.sent.append((rule.rule_id, eid, phase, channel))
    return result
