"""The network: JSON POSTs over HTTP (the monitoring webhook, with retries; the traffic
simulator's requests to the API)."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Callable

from kaizen import KaizenError


@dataclass(frozen=True)
class Delivery:
    """What happened to one webhook call."""

    ok: bool
    attempts: int
    error: str = ""


def origin(url: str) -> str:
    """`scheme://host[:port]` of a URL, for messages: a webhook's path is often its secret."""
    try:
        parts = urllib.parse.urlsplit(url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else "?"
    except ValueError:
        return "?"


def post(
    url: str,
    body: dict,
    *,
    retries: int,
    backoff: float,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """POST JSON; retry network errors, 429 and 5xx with exponential backoff (not other 4xx)."""
    data = json.dumps(body).encode()
    error = ""
    for attempt in range(1, retries + 2):
        try:
            request = urllib.request.Request(
                url, data=data, headers={"Content-Type": "application/json"}, method="POST"
            )
            with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec B310
                response.read()
            return Delivery(True, attempt)
        except urllib.error.HTTPError as exc:
            error = f"HTTP {exc.code}"
            if exc.code < 500 and exc.code != 429:
                return Delivery(False, attempt, error)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            error = f"{origin(url)}: {type(exc).__name__}"
            reason = getattr(exc, "reason", None)
            if isinstance(reason, (str, OSError)):  # urllib's own reason never holds the URL
                error += f" ({reason})"
        except ValueError:  # a malformed URL (runtime.py validates KAIZEN_ALERT_WEBHOOK first)
            return Delivery(False, attempt, f"{origin(url)}: invalid URL")
        if attempt <= retries:
            sleep(backoff * 2 ** (attempt - 1))
    return Delivery(False, retries + 1, error)


def post_json(url: str, body: dict, token: str | None = None) -> dict:
    """POST JSON, return the JSON answer; one-line errors."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # nosec B310
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace").strip().splitlines()[:1]
        raise KaizenError(f"{url}: HTTP {exc.code} {' '.join(detail)[:200]}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise KaizenError(f"{url}: unreachable ({getattr(exc, 'reason', exc)})") from None
