"""Login, and the pages behind it: alert rules, API tokens, incident review."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from aiohttp import web

from ashyq.web import security
from ashyq.web.app import (
    CONFIG_KEY,
    SECRET_KEY,
    SESSION_COOKIE,
    STATE_KEY,
    HttpError,
    check_login,
    read_form,
    render,
    require_login,
    user_of,
)
from ashyq.web.state import EVENT_KINDS

_FAILED_LOGINS: dict[str, int] = {}


def _safe_next(value: str | None) -> str:
    """Only local paths: a login never redirects to another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/admin"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/admin"
    return value


async def login_page(request: web.Request) -> web.Response:
    return render(request, "login.html", next=_safe_next(request.query.get("next")), error=None)


async def login_post(request: web.Request) -> web.Response:
    form = await read_form(request)
    name = form.get("name", "").strip()[:64]
    password = form.get("password", "")[:1024]
    target = _safe_next(form.get("next"))
    ok = await asyncio.to_thread(check_login, request.app, name, password)
    if not ok:
        if len(_FAILED_LOGINS) > 10_000:  # many names guessed: start counting afresh
            _FAILED_LOGINS.clear()
        failures = _FAILED_LOGINS.get(name, 0) + 1
        _FAILED_LOGINS[name] = failures
        await asyncio.sleep(min(5.0, 0.2 * failures))  # slow down guessing
        return render(request, "login.html", status=401, next=target, error="login.failed")
    _FAILED_LOGINS.pop(name, None)
    response = web.Response(status=303, headers={"Location": target})
    response.set_cookie(
        SESSION_COOKIE,
        security.make_session(request.app[SECRET_KEY], name),
        httponly=True,
        samesite="Strict",
        secure=request.secure,
        path="/",
        max_age=security.SESSION_SECONDS,
    )
    return response


async def logout_post(request: web.Request) -> web.Response:
    await read_form(request)
    response = web.Response(status=303, headers={"Location": "/"})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def _admin(request: web.Request, new_token: str | None = None) -> web.Response:
    """The admin page: alert rules, tokens (a new one shown once), recent deliveries."""
    state = request.app[STATE_KEY]
    return render(
        request,
        "admin.html",
        rules=state.rules(),
        tokens=state.tokens(),
        deliveries=state.deliveries(50),
        new_token=new_token,
        error=None,
        kinds=EVENT_KINDS,
        smtp=request.app[CONFIG_KEY].smtp is not None,
    )


@require_login
async def admin_page(request: web.Request) -> web.Response:
    return _admin(request)


@require_login
async def add_rule(request: web.Request) -> web.Response:
    form = await read_form(request)
    state = request.app[STATE_KEY]
    kinds = tuple(k for k in EVENT_KINDS if form.get(f"kind_{k}"))
    try:
        state.add_rule(
            name=form.get("name", "")[:100],
            target=form.get("target", "")[:253] or None,
            category=form.get("category", "")[:20] or None,
            network=form.get("network", "")[:20] or None,
            region=form.get("region", "")[:100] or None,
            kinds=kinds,
            webhook_url=form.get("webhook_url", "")[:500] or None,
            email=form.get("email", "")[:200] or None,
        )
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    return web.Response(status=303, headers={"Location": "/admin#rules"})


@require_login
async def delete_rule(request: web.Request) -> web.Response:
    await read_form(request)
    try:
        rule_id = int(request.match_info["rule_id"])
    except ValueError:
        raise HttpError(400, "bad rule id") from None
    request.app[STATE_KEY].delete_rule(rule_id)
    return web.Response(status=303, headers={"Location": "/admin#rules"})


@require_login
async def add_token(request: web.Request) -> web.Response:
    form = await read_form(request)
    name = form.get("name", "").strip()[:64] or (user_of(request) or "token")
    return _admin(request, new_token=request.app[STATE_KEY].add_token(name))


@require_login
async def revoke_token(request: web.Request) -> web.Response:
    await read_form(request)
    request.app[STATE_KEY].revoke_token(request.match_info["token_id"])
    return web.Response(status=303, headers={"Location": "/admin#tokens"})


@require_login
async def api_rules(request: web.Request) -> web.Response:
    """The alert rules as JSON, for scripts holding an API token."""
    rules = request.app[STATE_KEY].rules()
    return web.json_response(
        {
            "rules": [
                {
                    "id": r.rule_id,
                    "name": r.name,
                    "target": r.target,
                    "category": r.category,
                    "network": r.network,
                    "region": r.region,
                    "kinds": list(r.kinds),
                    "webhook_url": r.webhook_url,
                    "email": r.email,
                }
                for r in rules
            ]
        }
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_post)
    app.router.add_post("/logout", logout_post)
    app.router.add_get("/admin", admin_page)
    app.router.add_post("/admin/alerts", add_rule)
    app.router.add_post("/admin/alerts/{rule_id}/delete", delete_rule)
    app.router.add_post("/admin/tokens", add_token)
    app.router.add_post("/admin/tokens/{token_id}/delete", revoke_token)
    app.router.add_get("/admin/api/rules", api_rules)
    from ashyq.web import incident_pages

    incident_pages.add_routes(app)
