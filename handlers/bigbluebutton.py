"""BigBlueButton API client: checksums, `create` (idempotent per session), personal join URLs.

The checksum is the hex digest (SHA-256 by default, SHA-1 for old servers) of
call name + query string + shared secret, exactly as the BigBlueButton API documentation
specifies; the query string is sent as it was hashed.
"""

from __future__ import annotations

import hashlib
import logging
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import aiohttp
from yarl import URL

from bot.config import BigBlueButtonConfig

logger = logging.getLogger(__name__)


class BigBlueButtonError(Exception):
    """The server could not be reached or answered FAILED."""


def checksum(call: str, query: str, secret: str, algorithm: str = "sha256") -> str:
    """The documented checksum: hash(call name + query string + secret), hex."""
    return hashlib.new(algorithm, (call + query + secret).encode()).hexdigest()


def api_url(config: BigBlueButtonConfig, call: str, params: dict[str, str]) -> str:
    """The signed URL of an API call."""
    query = urlencode(params)
    digest = checksum(call, query, config.secret, config.checksum)
    base = config.url.rstrip("/")
    if not base.endswith("/api"):
        base += "/api"
    sep = "&" if query else ""
    return f"{base}/{call}?{query}{sep}checksum={digest}"


def meeting_id(session_id: int) -> str:
    """The BigBlueButton meeting id of a citybot session (stable, so create is idempotent)."""
    return f"citybot-evening-{session_id}"


def join_url(
    config: BigBlueButtonConfig,
    session_id: int,
    full_name: str,
    *,
    moderator: bool = False,
    user_id: str | None = None,
) -> str:
    """A personal join link (viewer for parents, moderator for staff)."""
    params = {
        "fullName": full_name,
        "meetingID": meeting_id(session_id),
        "role": "MODERATOR" if moderator else "VIEWER",
    }
    if user_id:
        params["userID"] = user_id
    return api_url(config, "join", params)


async def create_meeting(
    config: BigBlueButtonConfig, session_id: int, name: str, duration_minutes: int
) -> str:
    """Create the session's meeting (an existing one is fine: the call is idempotent)."""
    params = {
        "name": name,
        "meetingID": meeting_id(session_id),
        "record": "false",
        "duration": str(duration_minutes + 30),
    }
    url = api_url(config, "create", params)
    timeout = aiohttp.ClientTimeout(total=config.timeout_seconds)
    signed = URL(url, encoded=True)  # sent exactly as hashed
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(signed) as response:
            body = await response.text()
    except (aiohttp.ClientError, TimeoutError) as error:
        raise BigBlueButtonError(type(error).__name__) from None
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise BigBlueButtonError("no XML") from None
    if root.findtext("returncode") != "SUCCESS":
        raise BigBlueButtonError(root.findtext("messageKey") or "FAILED")
    logger.info("bbb meeting ready session=%d", session_id)
    return root.findtext("meetingID") or meeting_id(session_id)
