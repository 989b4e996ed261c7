"""Errors the CLI turns into a one-line message and a non-zero exit."""

from __future__ import annotations

import errno
import sys
from urllib.parse import urlsplit


class PlatformError(Exception):
    """A problem the user can fix: bad settings, a missing source, an unwritable lake."""


# What a full, read-only or forbidden disk means to the user, and what to do about it.
_DISK_PROBLEMS = {
    errno.ENOSPC: ("no space left on the device holding {path}", "free space there"),
    errno.EDQUOT: ("disk quota exceeded on the device holding {path}", "free space there or raise the quota"),
    errno.EROFS: ("{path} is on a read-only file system", "make it writable again (remount it read-write)"),
    errno.EACCES: ("permission denied on {path}", "give this user access to it"),
    errno.EPERM: ("permission denied on {path}", "give this user access to it"),
}
RERUN = "then run the same command again: it picks up where this run stopped"


def storage_problem(exc: BaseException, where: str | None = None) -> str | None:
    """One line for a storage fault anywhere in ``exc``'s chain (disk full, read-only,
    no permission, an S3 endpoint that does not answer), or None for any other error.
    ``where`` names the folder written when the error does not name a file."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _DISK_PROBLEMS:
            problem, remedy = _DISK_PROBLEMS[exc.errno]
            # a copy names source and destination: the destination is what could not be written
            path = exc.filename2 or exc.filename or where or "the data folder (DATA_DIR)"
            return f"{problem.format(path=path)}: {remedy}, {RERUN}"
        endpoint = _unanswered_endpoint(exc)
        if endpoint:
            cause = _first_line(exc)
            return f"the storage endpoint {endpoint} did not answer ({cause}): check it is up and reachable, {RERUN}"
        exc = exc.__cause__ or exc.__context__
    return None


def _unanswered_endpoint(exc: BaseException) -> str | None:
    """``scheme://host:port`` of an S3 (boto) endpoint that refused, dropped or timed out."""
    botocore = sys.modules.get("botocore.exceptions")  # only loaded where S3 was used
    if botocore is None or not isinstance(exc, (botocore.ConnectionError, botocore.HTTPClientError)):
        return None
    url = str(getattr(exc, "kwargs", {}).get("endpoint_url") or "")
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "(AWS_ENDPOINT_URL or AWS's own)"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def shorten_tracebacks(record) -> bool:
    """A ``logging`` filter: a record carrying a traceback (dlt logs one for each retry of a
    load job, in the message or as ``exc_info``) keeps its message's first line and the
    exception's last line; the error line at the end says the rest."""
    message = record.getMessage()
    head, marker, trace = message.partition("Traceback (most recent call last):")
    last = [line.strip() for line in trace.splitlines() if line.strip()][-1:]
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        last = [f"{type(exc).__name__}: {_first_line(exc)}"]
    if marker or last:
        record.msg, record.args = " ".join([head.rstrip(), *last]), ()
        record.exc_info, record.exc_text = None, None
    return True
