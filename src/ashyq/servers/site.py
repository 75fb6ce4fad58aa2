"""An HTTP and HTTPS site server with per-host content and misbehaviours, for tests and the lab.

Interface (stable):

    page = Page(
        status=200, title="Vlast.kz", body=None,      # body None: a small HTML page with title
        headers={"X-Site": "vlast"},
        redirect=None,                                 # Location: ...; status 302 unless 3xx
        delay=0.0,                                     # seconds before the response starts
        size=None,                                     # pad the body to exactly this many bytes
        rate_kbit_s=None,                              # pace the body at this rate
        behaviour="normal",   # "redirect_loop" (302 to itself, forever), "reset" (RST with
                              # SO_LINGER 0 after reading the request), "silent" (read the
                              # request, never answer), "close" (close without answering)
    )
    Page.from_dict({...})                              # same keys, for JSON configs

    server = SiteServer(
        sites={"vlast.kz": page,                       # host -> Page, or host -> {path: Page}
               "*.kz": Page(title="any .kz"),          #   with "*" as the fallback path;
               "*": Page(status=404)},                 # "*" is the fallback host
        host="127.0.0.1", port=0,
        tls=None,             # None: plain HTTP; else {host: (cert_path, key_path)} with SNI;
                              # "*" (or the first entry) is the certificate for unknown names
        ca=None,              # a CertAuthority: issue a certificate per host in `sites`
                              # automatically (implies HTTPS)
        behaviour="normal",   # per connection, before any TLS: "reset" (RST at once),
                              # "silent" (accept, never answer), "close" (FIN at once),
                              # "reset_after_hello" / "silent_after_hello" (read the first
                              # bytes, e.g. a TLS ClientHello, then RST / stay silent)
    )
    server.start() -> (host, port)      # in a background thread; also `with server:`
    await server.start_async()          # on the caller's running loop
    server.address, server.address_str, server.url(host, path="/") -> "http(s)://host:port/"
    server.requests -> list[(host, path)]   # requests served, in order
    server.stop()

Every response carries ``Connection: close`` (one request per connection). ``server.sites`` may
be changed while running (e.g. to add a redirect that needs the bound port); with ``ca=``,
certificates are issued only for the hosts given at construction.

Command line (JSON config with the same keys; certificate paths in "tls"):

    python -m ashyq.servers.site --config site.json
    {"listen": "0.0.0.0:443", "behaviour": "normal",
     "tls": {"vlast.kz": ["vlast.kz.pem", "vlast.kz-key.pem"]},
     "sites": {"vlast.kz": {"title": "Vlast", "delay": 0.05},
               "loop.kz": {"/": {"behaviour": "redirect_loop"}}}}
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import json
import socket
import ssl
import struct
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ashyq.servers.ca import CertAuthority
from ashyq.servers.runner import BackgroundLoop, Served, parse_hostport, run_forever

BEHAVIOURS = {"normal", "redirect_loop", "reset", "silent", "close"}
CONN_BEHAVIOURS = {"normal", "reset", "silent", "close", "reset_after_hello", "silent_after_hello"}
REASONS = {
    200: "OK",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass
class Page:
    status: int = 200
    title: str | None = None
    body: str | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    redirect: str | None = None
    delay: float = 0.0
    size: int | None = None
    rate_kbit_s: float | None = None
    behaviour: str = "normal"

    def __post_init__(self) -> None:
        if self.behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown page behaviour {self.behaviour!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Page:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown page keys: {sorted(unknown)}")
        return cls(**dict(data))

    def render(self, host: str) -> bytes:
        if isinstance(self.body, bytes):
            body = self.body
        elif isinstance(self.body, str):
            body = self.body.encode()
        else:
            title = html.escape(self.title if self.title is not None else host)
            body = (
                f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
                f"</head><body><h1>{title}</h1><p>Served by ashyq.servers.site for "
                f"{html.escape(host)}.</p></body></html>\n"
            ).encode()
        if self.size is not None:
            if len(body) >= self.size:
                body = body[: self.size]
            else:
                body = body + b"\n" + b"x" * (self.size - len(body) - 1)
        return body


SiteMap = Mapping[str, "Page | Mapping[str, Page]"]


def _lookup(table: Mapping[str, Any], host: str) -> Any:
    if host in table:
        return table[host]
    labels = host.split(".")
    for i in range(1, len(labels)):
        wild = "*." + ".".join(labels[i:])
        if wild in table:
            return table[wild]
    return table.get("*")


def _linger_reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class SiteServer(Served):
    """An HTTP(S) server for many virtual hosts (see the module docstring)."""

    def __init__(
        self,
        sites: Mapping[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: Mapping[str, tuple[str | Path, str | Path]] | None = None,
        ca: CertAuthority | None = None,
        behaviour: str = "normal",
    ) -> None:
        if behaviour not in CONN_BEHAVIOURS:
            raise ValueError(f"unknown connection behaviour {behaviour!r}")
        self.sites: dict[str, Page | dict[str, Page]] = {}
        for name, value in (sites or {}).items():
            self.sites[name.lower()] = self._coerce(value)
        self.host = host
        self.port = port
        self.behaviour = behaviour
        self.requests: list[tuple[str, str]] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        tls_map = dict(tls or {})
        if ca is not None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ashyq-site-")
            for name in self.sites:
                if name == "*":
                    continue
                names = [name] if not name.startswith("*.") else [name, name[2:]]
                tls_map.setdefault(name, ca.issue(names).write(self._tmp.name, stem=name))
            if not tls_map:
                tls_map["*"] = ca.issue(["localhost", host]).write(self._tmp.name)
        self.tls = tls_map or None
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._default_ctx: ssl.SSLContext | None = None
        if self.tls:
            for name, (cert, key) in self.tls.items():
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(str(cert), str(key))
                self._contexts[name.lower()] = ctx
            self._default_ctx = self._contexts.get("*") or next(iter(self._contexts.values()))
            self._default_ctx.sni_callback = self._pick_cert
        self._server: asyncio.base_events.Server | None = None
        self._bg: BackgroundLoop | None = None
        self._conns: set[asyncio.Task[Any]] = set()

    @staticmethod
    def _coerce(value: Any) -> Page | dict[str, Page]:
        if isinstance(value, Page):
            return value
        if isinstance(value, Mapping):
            if value and all(isinstance(k, str) and (k.startswith("/") or k == "*") for k in value):
                return {
                    k: (v if isinstance(v, Page) else Page.from_dict(v)) for k, v in value.items()
                }
            return Page.from_dict(value)
        raise TypeError(f"a site is a Page or a mapping, not {type(value).__name__}")

    def _pick_cert(self, sslobj: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        if name:
            ctx = _lookup(self._contexts, name.lower())
            if ctx is not None:
                sslobj.context = ctx
        return None

    # -- life cycle -------------------------------------------------------------------------
    async def start_async(self) -> tuple[str, int]:
        # TLS is terminated by asyncio unless a connection behaviour (which never gets as far
        # as a handshake) is configured.
        tls = self._default_ctx if self.behaviour == "normal" else None
        self._server = await asyncio.start_server(
            self._handle,
            self.host,
            self.port,
            reuse_address=True,
            backlog=1024,
            ssl=tls,
            ssl_handshake_timeout=30 if tls else None,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.address

    def start(self) -> tuple[str, int]:
        self._bg = BackgroundLoop("ashyq-site")
        return self._bg.run(self.start_async())

    async def stop_async(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._conns):
            task.cancel()

    def stop(self) -> None:
        if self._bg is not None:
            self._bg.run(self.stop_async())
            self._bg.stop()
            self._bg = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def url(self, host: str | None = None, path: str = "/") -> str:
        scheme = "https" if self.tls else "http"
        name = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"{scheme}://{name}:{self.port}{path}"

    # -- serving ----------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._conns.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, TimeoutError):
            pass
        except (asyncio.LimitOverrunError, ValueError, UnicodeError):
            writer.transport.abort()  # an oversized or garbled request: drop it
        except asyncio.CancelledError:
            writer.transport.abort()
            raise
        finally:
            if task is not None:
                self._conns.discard(task)
            if not writer.transport.is_closing():
                writer.transport.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        b = self.behaviour
        if b == "reset":
            _linger_reset(writer)
            return
        if b == "close":
            writer.close()
            return
        if b == "silent":
            await reader.read()  # until the client gives up
            return
        if b in ("reset_after_hello", "silent_after_hello"):
            first = await asyncio.wait_for(reader.read(4096), 30)
            if b == "reset_after_hello" or not first:
                _linger_reset(writer)
            else:
                await reader.read()
            return
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        if len(head) > 65536:
            return
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError:
            await self._send(writer, 400, {}, b"bad request\n")
            return
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        host = headers.get("host", "")
        if host.startswith("["):
            host = host[1:].split("]")[0]
        else:
            host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        host = host.lower()
        path = urlsplit(target).path or "/"
        self.requests.append((host, target))
        entry = _lookup(self.sites, host)
        if isinstance(entry, dict):
            entry = entry.get(path) or entry.get("*")
        page: Page = entry if isinstance(entry, Page) else Page(status=404, title="Not Found")
        if page.delay > 0:
            await asyncio.sleep(page.delay)
        if page.behaviour == "reset":
            _linger_reset(writer)
            return
        if page.behaviour == "close":
            writer.close()
            return
        if page.behaviour == "silent":
            await reader.read()
            return
        out_headers = {"Content-Type": "text/html; charset=utf-8", "Server": "ashyq-site"}
        out_headers.update(page.headers)
        status = page.status
        if page.behaviour == "redirect_loop":
            query = parse_qs(urlsplit(target).query)
            n = int(query.get("loop", ["0"])[0] or 0) + 1
            out_headers["Location"] = f"{path}?loop={n}"
            status = status if 300 <= status < 400 else 302
        elif page.redirect:
            out_headers["Location"] = page.redirect
            status = status if 300 <= status < 400 else 302
        body = page.render(host) if method != "HEAD" else b""
        await self._send(writer, status, out_headers, body, page.rate_kbit_s)

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        rate_kbit_s: float | None = None,
    ) -> None:
        reason = REASONS.get(status, "Status")
        head = [f"HTTP/1.1 {status} {reason}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        head += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        writer.write("\r\n".join(head).encode("latin-1"))
        if rate_kbit_s:
            chunk = max(1, int(rate_kbit_s * 1000 / 8 / 20))  # 50 ms worth
            for i in range(0, len(body), chunk):
                writer.write(body[i : i + chunk])
                await writer.drain()
                await asyncio.sleep(0.05)
        else:
            writer.write(body)
        await writer.drain()
        writer.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ashyq.servers.site",
        description="Serve HTTP/HTTPS sites from a JSON config (see the module docstring).",
    )
    parser.add_argument("--config", type=Path, required=True, metavar="FILE")
    parser.add_argument("--listen", metavar="HOST:PORT", help="overrides the config's listen")
    args = parser.parse_args(argv)
    config = json.loads(args.config.read_text())
    base = args.config.parent
    host, port = parse_hostport(args.listen or config.get("listen", "127.0.0.1:8080"), 80)
    tls = {
        name: (base / pair[0], base / pair[1]) for name, pair in (config.get("tls") or {}).items()
    }
    server = SiteServer(
        config.get("sites", {}),
        host=host,
        port=port,
        tls=tls or None,
        behaviour=config.get("behaviour", "normal"),
    )

    async def _start() -> None:
        addr = await server.start_async()
        scheme = "https" if server.tls else "http"
        print(f"{scheme} site listening on {addr[0]}:{addr[1]}", flush=True)

    run_forever(_start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
