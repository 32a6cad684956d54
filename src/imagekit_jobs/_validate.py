"""Input checks made before any request is sent: job ids and base URLs."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from ._errors import InvalidInputError

__all__ = ["check_base_url", "check_job_id"]

# Job ids are spliced into the request path, so only characters that can never change
# the path are allowed (ImageKit's ids are 24 hex characters; the length is not assumed).
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def check_job_id(job_id: object) -> str:
    """Return ``job_id`` if it is safe to put in a URL path, else raise ``InvalidInputError``."""
    if not isinstance(job_id, str) or not job_id:
        raise InvalidInputError(f"job id must be a non-empty string, got {job_id!r}")
    if _JOB_ID.fullmatch(job_id) is None:
        shown = job_id if len(job_id) <= 64 else job_id[:64] + "..."
        raise InvalidInputError(
            f"invalid job id {shown!r}: only letters, digits, '_' and '-' are allowed, "
            "up to 128 characters"
        )
    return job_id


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """Return ``url`` without a trailing slash; refuse anything but HTTPS (or HTTP to loopback)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise InvalidInputError(f"invalid base URL: {exc}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidInputError(f"base URL must be https://HOST[/PATH], got {url!r}")
    if parts.username is not None or parts.password is not None:
        raise InvalidInputError("base URL must not contain credentials")
    if parts.query or parts.fragment:
        raise InvalidInputError("base URL must not contain a query or a fragment")
    if parts.scheme == "http" and not _is_loopback(host):
        raise InvalidInputError(
            f"refusing plain http:// to {host}: the private key would cross the network "
            "in clear text (use https://, or http:// only to a loopback address)"
        )
    return url.rstrip("/")
