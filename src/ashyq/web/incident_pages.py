"""The incident form (public, anonymous allowed, always saved as a draft) and the review list
behind the login, over the incidents API of ``ashyq.incidents`` (see docs/incidents.md)."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ashyq.web.app import CONFIG_KEY, HttpError, read_form, render, require_login

FORM_FIELDS = (
    "platform",
    "type",
    "when",
    "account",
    "outlet",
    "numbers",
    "complainant",
    "notice_text",
    "notes",
)
MAX_FIELD = 20_000


def _api() -> dict[str, Any] | None:
    """The incidents functions, or None while that part is not installed."""
    found: dict[str, Any] = {}
    for module in ("ashyq.incidents", "ashyq.incidents.registry", "ashyq.incidents.model"):
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        for name in (
            "add_incident",
            "list_incidents",
            "set_status",
            "incident_from_fields",
            "TYPES",
            "STATUSES",
            "IncidentError",
        ):
            if name not in found and hasattr(mod, name):
                found[name] = getattr(mod, name)
    needed = ("add_incident", "list_incidents", "incident_from_fields", "IncidentError")
    return found if all(n in found for n in needed) else None


def _require_api() -> dict[str, Any]:
    api = _api()
    if api is None:
        raise HttpError(503, "incident reports are not available on this server")
    return api


async def incident_form(request: web.Request) -> web.Response:
    api = _require_api()
    return render(
        request, "incident_form.html", done=None, error=None, form={}, types=api.get("TYPES", ())
    )


async def incident_post(request: web.Request) -> web.Response:
    api = _require_api()
    form = await read_form(request)
    fields = {k: form.get(k, "")[:MAX_FIELD] for k in FORM_FIELDS}
    fields["status"] = "draft"  # a public report is a draft until someone reviews it
    hash_account = bool(form.get("hash_account"))
    data_dir = request.app[CONFIG_KEY].data_dir
    add: Callable[..., str] = api["add_incident"]
    try:
        incident = api["incident_from_fields"](fields)
        incident.status = "draft"
        incident_id = await asyncio.to_thread(add, data_dir, incident, hash_account)
    except api["IncidentError"] as exc:
        return render(
            request,
            "incident_form.html",
            status=400,
            done=None,
            error=str(exc),
            form=fields,
            types=api.get("TYPES", ()),
        )
    return render(request, "incident_form.html", done=incident_id, error=None, form={}, types=())


@require_login
async def incident_review(request: web.Request) -> web.Response:
    api = _require_api()
    status = request.query.get("status") or None
    statuses = tuple(api.get("STATUSES", ("draft", "in_review", "verified")))
    if status is not None and status not in statuses:
        raise HttpError(400, f"unknown status: {status[:20]!r}")
    data_dir = request.app[CONFIG_KEY].data_dir
    listing = api["list_incidents"]
    incidents = await asyncio.to_thread(lambda: listing(data_dir, status=status, limit=500))
    return render(
        request,
        "incidents_review.html",
        incidents=[i.to_dict() if hasattr(i, "to_dict") else dict(i) for i in incidents],
        statuses=statuses,
        current_status=status or "",
        can_set=("set_status" in api),
    )


@require_login
async def incident_set_status(request: web.Request) -> web.Response:
    api = _require_api()
    form = await read_form(request)
    if "set_status" not in api:
        raise HttpError(503, "changing an incident's status is not available")
    incident_id = request.match_info["incident_id"][:100]
    data_dir = request.app[CONFIG_KEY].data_dir
    try:
        await asyncio.to_thread(api["set_status"], data_dir, incident_id, form.get("status", ""))
    except api["IncidentError"] as exc:
        raise HttpError(400, str(exc)) from None
    return web.Response(status=303, headers={"Location": "/admin/incidents"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/incidents/new", incident_form)
    app.router.add_post("/incidents", incident_post)
    app.router.add_get("/admin/incidents", incident_review)
    app.router.add_post("/admin/incidents/{incident_id}/status", incident_set_status)
