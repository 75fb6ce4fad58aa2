"""The aiohttp application: routes, security headers, language, sessions and rendering."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from ashyq.store.lock import StoreBusy
from ashyq.web import i18n, security
from ashyq.web.alerts import SmtpConfig
from ashyq.web.state import WebState

log = logging.getLogger("ashyq.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ADMIN_ENV = "ASHYQ_WEB_ADMIN_PASSWORD"
SESSION_COOKIE = "ashyq_session"
BROWSER_COOKIE = "ashyq_browser"
LANG_COOKIE = "ashyq_lang"
MAX_FORM_BYTES = 256 * 1024


@dataclass
class Config:
    data_dir: Path
    base_url: str = ""
    smtp: SmtpConfig | None = None
    alerts_interval: float = 0.0  # seconds between background alert runs; 0: none
    chromium: str = "/usr/bin/chromium"
    reader_hold: float = 1.0  # longest time a store read connection is kept open (seconds)
    reader_idle: float = 0.25  # an unused read connection is closed after this long
    admin_password: str | None = field(default_factory=lambda: os.environ.get(ADMIN_ENV) or None)


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


STORE_KEY = web.AppKey("store", Any)
STATE_KEY = web.AppKey("state", WebState)
CONFIG_KEY = web.AppKey("config", Config)
JINJA_KEY = web.AppKey("jinja", jinja2.Environment)
SECRET_KEY = web.AppKey("secret", bytes)
TASKS_KEY = web.AppKey("tasks", list)
READER_KEY = web.AppKey("reader", Any)
NONCE = web.RequestKey("nonce", str)
BROWSER = web.RequestKey("browser_id", str)
LANG = web.RequestKey("lang", str)
USER = web.RequestKey("user", object)


def make_jinja() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ashyq.web", "templates"),
        autoescape=True,  # every template, every value: measured data is never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = _fmt_utc
    env.filters["num"] = lambda v: "" if v is None else f"{v:,}".replace(",", " ")
    env.filters["pct"] = lambda v: "" if v is None else f"{100 * float(v):.0f}%"
    return env


def _fmt_utc(value: Any, with_seconds: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")
    return str(value)


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ------------------------------------------------------------------ request context helpers
def lang_of(request: web.Request) -> str:
    return str(request.get(LANG, i18n.DEFAULT_LANGUAGE))


def user_of(request: web.Request) -> str | None:
    return request.get(USER)


def csrf_of(request: web.Request) -> str:
    return security.csrf_token(request.app[SECRET_KEY], request[BROWSER])


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    lang = lang_of(request)
    env = request.app[JINJA_KEY]

    def t(key: str, **values: object) -> str:
        return i18n.translate(lang, key, **values)

    def lang_url(code: str) -> str:
        query = dict(request.query)
        query["lang"] = code
        # a path of our own, never "//host/..." (which a browser reads as another site)
        return f"/{request.path.lstrip('/')}?{urlencode(query)}"

    html = env.get_template(template).render(
        t=t,
        lang=lang,
        languages=i18n.LANGUAGES,
        language_names=i18n.LANGUAGE_NAMES,
        lang_url=lang_url,
        nonce=request[NONCE],
        user=user_of(request),
        csrf=csrf_of(request),
        path=request.path,
        **context,
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


async def read_form(request: web.Request) -> dict[str, str]:
    """A POSTed form, after the CSRF check; raises HttpError on a bad or foreign request."""
    if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
        raise HttpError(413, "form too large")
    form = await request.post()
    token = form.get("csrf")
    if not security.check_csrf(
        request.app[SECRET_KEY], request.get(BROWSER), token if isinstance(token, str) else None
    ):
        raise HttpError(403, "invalid or missing CSRF token: reload the page and try again")
    return {k: v for k, v in form.items() if isinstance(v, str)}


def require_login(handler: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        user = user_of(request)
        if user is None:
            if request.method == "GET" and not request.path.startswith("/admin/api"):
                raise web.HTTPSeeOther(f"/login?{urlencode({'next': request.path_qs})}")
            raise HttpError(401, "login required")
        if user.startswith("token:") and not request.path.startswith("/admin/api/"):
            # an API token reaches the API only, not the pages a person logs in to
            raise HttpError(403, "API tokens reach /admin/api/ only")
        return await handler(request)

    wrapped.__name__ = handler.__name__
    return wrapped


def authenticate_bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        owner = request.app[STATE_KEY].token_owner(header[7:].strip())
        return f"token:{owner}" if owner else None
    return None


def check_login(app: web.Application, name: str, password: str) -> bool:
    config = app[CONFIG_KEY]
    if (
        config.admin_password
        and name == "admin"
        and secrets.compare_digest(password.encode(), config.admin_password.encode())
    ):
        return True
    return app[STATE_KEY].check_user(name, password)


# ------------------------------------------------------------------ middleware
@web.middleware
async def context_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    nonce = security.new_nonce()
    request[NONCE] = nonce
    secret = request.app[SECRET_KEY]
    browser_id = request.cookies.get(BROWSER_COOKIE)
    new_browser = not browser_id or len(browser_id) > 100
    if new_browser:
        browser_id = secrets.token_urlsafe(24)
    request[BROWSER] = browser_id
    query_lang = request.query.get("lang")
    lang = i18n.choose_language(
        query_lang, request.cookies.get(LANG_COOKIE), request.headers.get("Accept-Language")
    )
    request[LANG] = lang
    request[USER] = security.read_session(
        secret, request.cookies.get(SESSION_COOKIE)
    ) or authenticate_bearer(request)
    try:
        response = await handler(request)
    except HttpError as exc:
        response = render(request, "error.html", status=exc.status, message=exc.message)
    except web.HTTPMethodNotAllowed:
        raise
    except web.HTTPRedirection as exc:
        response = web.Response(status=exc.status, headers={"Location": exc.location})
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = render(request, "error.html", status=exc.status, message=exc.reason)
    except StoreBusy as exc:
        response = render(request, "error.html", status=503, message=str(exc))
    except Exception:
        log.exception("error while serving %s", request.path)
        response = render(request, "error.html", status=500, message="internal error")
    _secure(response, nonce)
    secure_cookie = request.secure
    if new_browser:
        response.set_cookie(
            BROWSER_COOKIE,
            browser_id,
            httponly=True,
            samesite="Strict",
            secure=secure_cookie,
            path="/",
        )
    if query_lang in i18n.LANGUAGES and query_lang != request.cookies.get(LANG_COOKIE):
        response.set_cookie(
            LANG_COOKIE,
            query_lang,
            samesite="Lax",
            secure=secure_cookie,
            path="/",
            max_age=365 * 86400,
        )
    return response


def _secure(response: web.StreamResponse, nonce: str) -> None:
    if response.prepared:
        return
    response.headers.setdefault("Content-Security-Policy", security.content_security_policy(nonce))
    for name, value in security.SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def method_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Public pages are read-only: any write needs a POST to a form endpoint (CSRF-checked)."""
    try:
        return await handler(request)
    except web.HTTPMethodNotAllowed as exc:
        response = web.Response(status=405, text="method not allowed\n")
        response.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
        _secure(response, request.get(NONCE, ""))
        return response


# ------------------------------------------------------------------ app factory
def make_app(config: Config, store: Any | None = None) -> web.Application:
    from ashyq.web import admin, pages, reports

    if store is None:
        from ashyq.store.store import Store

        store = Store.open(config.data_dir, read_only=True)
    state = WebState.open(config.data_dir)
    app = web.Application(
        middlewares=[method_middleware, context_middleware], client_max_size=MAX_FORM_BYTES
    )
    app[STORE_KEY] = store
    app[STATE_KEY] = state
    app[CONFIG_KEY] = config
    app[JINJA_KEY] = make_jinja()
    app[SECRET_KEY] = state.secret()
    app[TASKS_KEY] = []
    from ashyq.web.reader import StoreReader

    app[READER_KEY] = StoreReader(store, hold=config.reader_hold, idle=config.reader_idle)
    pages.add_routes(app)
    reports.add_routes(app)
    admin.add_routes(app)
    static = Path(__file__).parent / "static"
    app.router.add_static("/static/", static, show_index=False, follow_symlinks=False)
    app.on_startup.append(_start_background)
    app.on_cleanup.append(_stop_background)
    return app


async def _start_background(app: web.Application) -> None:
    config = app[CONFIG_KEY]
    if config.alerts_interval > 0:
        app[TASKS_KEY].append(asyncio.create_task(_alert_loop(app)))


async def _stop_background(app: web.Application) -> None:
    for task in app[TASKS_KEY]:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    await asyncio.to_thread(app[READER_KEY].shutdown)
    app[STATE_KEY].close()


async def _alert_loop(app: web.Application) -> None:
    from ashyq.web.alerts import run_once

    config = app[CONFIG_KEY]
    while True:
        try:
            result = await run_once(
                app[STORE_KEY], app[STATE_KEY], smtp=config.smtp, base_url=config.base_url
            )
            if result.sent or result.failed:
                log.info("alerts: %s", result.to_dict())
        except Exception:
            log.exception("alert run failed")
        await asyncio.sleep(config.alerts_interval)
