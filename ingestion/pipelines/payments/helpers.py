"""Plain functions of the payments pipeline: the retrying session and early checks."""

from __future__ import annotations

import json

import requests
from dlt.sources.helpers.requests import Client

from ingestion.errors import PlatformError
from ingestion.pipelines.payments.settings import (
    BACKOFF_FACTOR,
    MAX_ATTEMPTS,
    MAX_RETRY_DELAY_S,
    RECORD_FIELDS,
    REQUEST_TIMEOUT_S,
)


def is_truncated(response: requests.Response | None, exception: BaseException | None) -> bool:
    """A 200 whose body is not JSON: a dropped connection or a proxy's error page."""
    if response is None or response.status_code != 200:
        return False
    try:
        json.loads(response.content)
    except ValueError:
        return True
    return False


def retrying_session(max_attempts: int = MAX_ATTEMPTS, backoff_factor: float = BACKOFF_FACTOR) -> requests.Session:
    """A session that retries 429 (after Retry-After), 5xx, dropped connections and bad pages.

    dlt's ``Client`` waits the number of seconds a 429 or 503 names in ``Retry-After``
    and backs off exponentially otherwise. After the last attempt the bad response is
    handed on, and ``check_page`` turns it into a clear error.
    """
    return Client(
        request_timeout=REQUEST_TIMEOUT_S,
        raise_for_status=False,
        request_max_attempts=max_attempts,
        request_backoff_factor=backoff_factor,
        request_max_retry_delay=MAX_RETRY_DELAY_S,
        retry_condition=is_truncated,
        respect_retry_after_header=True,
    ).session


class PageError(requests.HTTPError):
    """A page that cannot be used; retried when transient (see ``retrying_session``)."""


def check_page(response: requests.Response, *args, **kwargs) -> requests.Response:
    """Raise one line naming the page when a response cannot be used.

    It runs inside the session's retry loop, which retries a ``PageError`` for 429, 5xx
    and non-JSON bodies and re-raises it once the attempts are spent.
    """
    if response.status_code >= 400:
        raise PageError(f"payments API page {response.url} failed: {api_error(response)}", response=response)
    if is_truncated(response, None):
        raise PageError(
            f"payments API page {response.url} is not valid JSON "
            f"({len(response.content)} bytes starting {response.content[:40]!r})",
            response=response,
        )
    return response


def api_error(response: requests.Response) -> str:
    try:
        error = response.json()["error"]
        detail = error.get("code") or error.get("type")
        return f"HTTP {response.status_code} {detail}: {error.get('message')}"
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"HTTP {response.status_code}"


def check_token(base_url: str, token: str) -> None:
    """One cheap request before any load: a wrong token or URL fails here, at once."""
    url = f"{base_url.rstrip('/')}/v1/charges"
    try:
        response = requests.get(
            url,
            params={"limit": 1},
            headers={"Authorization": f"Bearer {token}"},
            timeout=REQUEST_TIMEOUT_S,
        )
    except requests.RequestException as exc:
        raise PlatformError(f"cannot reach the payments API at {base_url}: {exc}") from exc
    if response.status_code in (401, 403):
        raise PlatformError(
            f"the payments API at {base_url} rejected the token (HTTP {response.status_code}): "
            "check SOURCES__PAYMENTS__TOKEN"
        )


class SchemaDrift(ValueError):
    """A record whose fields no longer meet ``RECORD_FIELDS``."""


def check_record(resource: str):
    """A dlt map that fails the extraction on the first record breaking ``RECORD_FIELDS``."""
    fields = RECORD_FIELDS[resource]

    def check(record: dict) -> dict:
        for name, types in fields.items():
            *parents, key = name.split(".")
            holder = record
            for parent in parents:
                holder = holder.get(parent) if isinstance(holder, dict) else None
            if not isinstance(holder, dict) or key not in holder:
                raise SchemaDrift(
                    f"payments API {resource} record {record.get('id')}: field {name} is missing (dropped or"
                    f" renamed? the record has {', '.join(sorted(record))}); nothing of this run was loaded"
                )
            value = holder[key]
            if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
                expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
                raise SchemaDrift(
                    f"payments API {resource} record {record.get('id')}: field {name} is {type(value).__name__}"
                    f" {value!r:.40}, not {expected}; nothing of this run was loaded"
                )
        return record

    return check
