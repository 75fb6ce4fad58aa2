"""Alerts reach a local webhook receiver (aiohttp) and a local SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from datetime import timedelta
from email import message_from_bytes

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from ashyq.cli import main
from ashyq.store.store import Store
from ashyq.web.alerts import matches, message, payload
from ashyq.web.state import WebState

from .datagen import build, write_truth


class Receiver:
    """A webhook receiver on loopback, in its own thread and event loop."""

    def __init__(self, fail: bool = False) -> None:
        self.bodies: list[dict] = []
        self.fail = fail
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    async def _hook(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        return web.Response(status=500 if self.fail else 204)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())

    def __enter__(self) -> Receiver:
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp():
    box = Mailbox()
    with socket.socket() as probe:  # a free loopback port (aiosmtpd checks it after start)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, controller
    finally:
        controller.stop()


def test_rule_matching_is_by_every_given_field():
    from ashyq.web.state import AlertRule

    rule = AlertRule(
        1, "r", "vlast.kz", None, "AS9198", "Almaty", ("blocking",), "http://x/", None, True, ""
    )
    event = {
        "kind": "blocking",
        "target": "vlast.kz",
        "asns": ["AS9198"],
        "regions": ["Almaty", "Shymkent"],
    }
    assert matches(rule, event, {})
    assert not matches(rule, {**event, "kind": "outage"}, {})
    assert not matches(rule, {**event, "asns": ["AS21299"]}, {})
    assert not matches(rule, {**event, "regions": ["Astana"]}, {})
    cat = AlertRule(2, "c", None, "NEWS", None, None, (), "http://x/", None, True, "")
    assert matches(cat, event, {"vlast.kz": "NEWS"})
    assert not matches(cat, event, {"vlast.kz": "COMT"})
    assert not matches(cat, {**event, "target": None}, {"vlast.kz": "NEWS"})


def test_alerts_start_and_end_reach_webhook_and_smtp(tmp_path, smtp, capsys):
    box, controller = smtp
    data = tmp_path / "store"
    sc = build(data, hours=30)
    main(["web", "categories", str(_test_list(tmp_path)), "--data", str(data)])
    with Receiver() as receiver:
        assert main([
            "web", "alerts", "add", "--name", "vlast", "--target", "vlast.kz",
            "--network", "AS9198", "--webhook", receiver.url, "--email", "desk@example.org",
            "--data", str(data),
        ]) == 0  # fmt: skip
        assert main([
            "web", "alerts", "add", "--name", "news outages", "--category", "NEWS",
            "--kinds", "outage", "--webhook", receiver.url, "--data", str(data),
        ]) == 0  # fmt: skip
        smtp_arg = f"127.0.0.1:{controller.port}"
        run = ["web", "alerts", "run", "--data", str(data), "--smtp", smtp_arg,
               "--base-url", "http://ashyq.test"]  # fmt: skip
        assert main(run) == 0
        ongoing = sc.events["vlast_now"]
        starts = [b for b in receiver.bodies if b["event"]["id"] == ongoing["event_id"]]
        assert [b["type"] for b in starts] == ["event.start"]
        assert starts[0]["event"]["methods"] == ["dns.nxdomain"]
        assert starts[0]["report"] == f"http://ashyq.test/events/{ongoing['event_id']}/report.html"
        # the category rule watches outages of NEWS targets only: outages have no target
        assert all(b["rule"]["name"] == "vlast" for b in receiver.bodies)
        assert len(box.messages) == len(receiver.bodies) >= 1
        subjects = [m["Subject"] for m in box.messages]
        assert any("vlast.kz started" in s for s in subjects)
        # nothing is sent twice
        before = len(receiver.bodies)
        assert main(run) == 0
        assert len(receiver.bodies) == before
        # the ongoing event ends: an "end" alert is sent, once
        store = Store.open(data)
        with store.connect() as con:
            verdicts = [dict(zip([d[0] for d in con.description], r, strict=True))
                        for r in con.execute("SELECT * FROM verdicts").fetchall()]  # fmt: skip
        ended = dict(ongoing)
        ended["end"] = (sc.now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
        events = [ended if e["event_id"] == ongoing["event_id"] else e for e in sc.events.values()]
        for v in verdicts:
            v["measurement_start_time"] = str(v["measurement_start_time"])
            v["judged_at"] = str(v["judged_at"])
            v["evidence"] = list(v["evidence"])
        write_truth(store, verdicts, events)
        assert main(run) == 0
        ends = [b for b in receiver.bodies[before:] if b["type"] == "event.end"]
        assert [b["event"]["id"] for b in ends] == [ongoing["event_id"]]
        assert ends[0]["event"]["end"] == ended["end"].replace(" ", "T") + "Z"
        assert any("ended" in m["Subject"] for m in box.messages)
        body = box.messages[-1].get_payload()
        assert "Evidence report: http://ashyq.test/events/" in body
    out = capsys.readouterr().out
    assert "sent" in out


def test_failed_webhook_is_recorded_and_retried(tmp_path, capsys):
    data = tmp_path / "store"
    build(data, hours=12)
    with Receiver(fail=True) as receiver:
        main(["web", "alerts", "add", "--target", "vlast.kz", "--webhook", receiver.url,
              "--data", str(data)])  # fmt: skip
        assert main(["web", "alerts", "run", "--data", str(data)]) == 1
        assert "FAIL" in capsys.readouterr().out
        first = len(receiver.bodies)
        assert first >= 1
        receiver.fail = False
        assert main(["web", "alerts", "run", "--data", str(data)]) == 0
        assert len(receiver.bodies) == 2 * first  # retried once, then done
        assert main(["web", "alerts", "run", "--data", str(data)]) == 0
        assert len(receiver.bodies) == 2 * first
    state = WebState.open(data)
    assert all(d["ok"] for d in state.deliveries())


def test_alert_rule_input_is_checked(tmp_path, capsys):
    data = tmp_path / "d"
    assert main(["web", "alerts", "add", "--target", "x.kz", "--data", str(data)]) == 2
    assert "needs a webhook URL or an e-mail" in capsys.readouterr().err
    assert (
        main(["web", "alerts", "add", "--webhook", "file:///etc/passwd", "--data", str(data)]) == 2
    )
    assert main(["web", "alerts", "add", "--email", "not-an-address", "--data", str(data)]) == 2
    assert (
        main(
            ["web", "alerts", "add", "--kinds", "weather", "--email", "a@b.kz", "--data", str(data)]
        )
        == 2
    )
    assert main(["web", "alerts", "list", "--json", "--data", str(data)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == []


def test_message_text_is_plain_facts():
    from ashyq.web.state import AlertRule

    rule = AlertRule(3, "desk", None, None, None, None, (), None, "a@b.kz", True, "")
    from datetime import datetime

    ev = {"event_id": "e1", "kind": "outage", "target": None, "asns": ["AS48716"],
          "regions": ["Shymkent"], "methods": ["tcp.timeout"], "start": datetime(2022, 1, 5, 10),
          "end": None, "measurements": 9, "confidence": 0.9}  # fmt: skip
    subject, text = message(rule, ev, "start", "http://h")
    assert subject == "[ashyq] outage of all targets started (AS48716)"
    assert "Start (UTC): 2022-01-05T10:00:00Z" in text and "End (UTC): ongoing" in text
    assert payload(rule, ev, "start", "http://h/")["report"] == "http://h/events/e1/report.html"


def _test_list(tmp_path):
    path = tmp_path / "kz.csv"
    path.write_text(
        "url,category_code,category_description,date_added,source,notes\n"
        "https://vlast.kz/,NEWS,News Media,2019-05-09,test,\n"
        "https://telegram.org/,COMT,Communication Tools,2019-05-09,test,\n"
    )
    return path


def test_server_sends_alerts_in_the_background(tmp_path):
    from ashyq.web.app import Config

    from .conftest import ServerThread

    data = tmp_path / "store"
    sc = build(data, hours=12)
    with Receiver() as receiver:
        WebState.open(data).add_rule(name="bg", target="hostile.example", webhook_url=receiver.url)
        thread = ServerThread(Config(data_dir=data, alerts_interval=0.3, admin_password=None))
        thread.start()
        try:
            for _ in range(100):
                if receiver.bodies:
                    break
                time.sleep(0.1)
        finally:
            thread.stop()
    assert [b["event"]["id"] for b in receiver.bodies] == [sc.events["hostile_now"]["event_id"]]
