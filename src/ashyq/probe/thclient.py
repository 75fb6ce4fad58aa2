"""The probe's side of the OONI test-helper protocol: ask the control about a URL."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from ashyq.probe.errors import GENERIC_TIMEOUT, classify
from ashyq.probe.http import DEFAULT_HEADERS


def control_request(url: str, endpoints: list[str]) -> dict[str, Any]:
    """The request body of ts-017: ``{http_request, http_request_headers, tcp_connect}``."""
    return {
        "http_request": url,
        "http_request_headers": {k: [v] for k, v in DEFAULT_HEADERS.items()},
        "tcp_connect": endpoints,
        "x_quic_enabled": False,
    }


async def ask_control(
    session: aiohttp.ClientSession, control_url: str, request: dict[str, Any], timeout: float
) -> tuple[dict[str, Any] | None, str | None]:
    """POST the request; return (control answer, failure string)."""
    try:
        async with asyncio.timeout(timeout):
            async with session.post(control_url, json=request) as resp:
                text = await resp.text()
                if resp.status != 200:
                    return None, f"http_request_failed: status {resp.status}"
        data = json.loads(text)
        if not isinstance(data, dict):
            return None, "json_parse_error"
        return data, None
    except TimeoutError:
        return None, GENERIC_TIMEOUT
    except json.JSONDecodeError:
        return None, "json_parse_error"
    except aiohttp.ClientConnectorError as exc:
        return None, classify(exc.os_error)
    except aiohttp.ServerDisconnectedError:
        return None, "eof_error"
    except Exception as exc:
        return None, classify(exc)
