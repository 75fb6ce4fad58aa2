"""The control server: OONI's test-helper protocol over HTTP (``POST /``), with limits.

    app = make_app(ControlConfig(...))            # aiohttp application
    server = ControlServer(cfg, host, port)        # background thread: start() -> (host, port)
    await server.start_async(); server.url         # or on a running loop

Limits: at most ``max_inflight`` requests measured at once (503 beyond), request bodies of at
most ``max_body`` bytes (413), ``request_timeout`` seconds per request.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web

from ashyq.control.measure import BadRequest, ControlConfig, th_measure
from ashyq.servers.runner import BackgroundLoop

log = logging.getLogger("ashyq.control")
CONFIG_KEY = web.AppKey("config", ControlConfig)
INFLIGHT_KEY = web.AppKey("inflight", list)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def handle_measure(request: web.Request) -> web.StreamResponse:
    cfg = request.app[CONFIG_KEY]
    inflight = request.app[INFLIGHT_KEY]
    if inflight[0] >= cfg.max_inflight:
        return _error(503, "too many requests in flight; retry later")
    inflight[0] += 1
    try:
        if request.content_length is not None and request.content_length > cfg.max_body:
            return _error(413, f"request larger than {cfg.max_body} bytes")
        raw = b""
        try:
            while len(raw) <= cfg.max_body:
                chunk = await request.content.read(cfg.max_body + 1 - len(raw))
                if not chunk:
                    break
                raw += chunk
        except Exception:
            return _error(400, "could not read the request")
        if len(raw) > cfg.max_body:
            return _error(413, f"request larger than {cfg.max_body} bytes")
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            return _error(400, "the request is not JSON (or nested too deeply)")
        try:
            answer = await asyncio.wait_for(th_measure(body, cfg), cfg.request_timeout + 5)
        except BadRequest as exc:
            return _error(400, str(exc))
        except TimeoutError:
            return _error(504, "the measurement took too long")
        except Exception as exc:  # never a traceback page: the probe gets a JSON answer
            log.exception("control measurement failed")
            return _error(500, f"the control could not measure this request ({type(exc).__name__})")
        return web.json_response(answer)
    finally:
        inflight[0] -= 1


async def handle_info(_request: web.Request) -> web.Response:
    return web.json_response(
        {"service": "ashyq control", "protocol": "ooni web_connectivity test helper (ts-017)"}
    )


def make_app(cfg: ControlConfig) -> web.Application:
    app = web.Application(client_max_size=cfg.max_body)
    app[CONFIG_KEY] = cfg
    app[INFLIGHT_KEY] = [0]
    app.router.add_post("/", handle_measure)
    app.router.add_get("/", handle_info)
    return app


class ControlServer:
    def __init__(self, cfg: ControlConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.cfg = cfg
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._bg: BackgroundLoop | None = None

    async def start_async(self) -> tuple[str, int]:
        self._runner = web.AppRunner(make_app(self.cfg), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        server: Any = site._server
        self.port = server.sockets[0].getsockname()[1]
        return self.host, self.port

    async def stop_async(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start(self) -> tuple[str, int]:
        self._bg = BackgroundLoop("ashyq-control")
        return self._bg.run(self.start_async())

    def stop(self) -> None:
        if self._bg is not None:
            self._bg.run(self.stop_async())
            self._bg.stop()
            self._bg = None

    def __enter__(self) -> ControlServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"
