"""The bot's Matrix login kept in the store folder: access token, device id, sync token.

The file sits next to the crypto store (same folder, same backup); it is written atomically
with mode 0600 because the access token is a credential.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

FILE_NAME = "session.json"


@dataclass
class Session:
    """One logged-in device of the bot account."""

    homeserver: str
    user_id: str
    device_id: str
    access_token: str
    next_batch: str = ""


def load(folder: Path) -> Session | None:
    """The stored session, or None when there is none (or it cannot be read)."""
    path = folder / FILE_NAME
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Session(**data)
    except (OSError, ValueError, TypeError):
        return None


def save(folder: Path, session: Session) -> None:
    """Write the session atomically, readable only by the owner."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAME
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(asdict(session), handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def forget(folder: Path) -> None:
    """Remove the stored session (the token was rejected; the next start logs in again)."""
    (folder / FILE_NAME).unlink(missing_ok=True)
