"""The installation's secret key: signs buttons and turns identifiers into keyed hashes.

Log lines name people's identifiers (chat, user, event and room ids) only as log_ref(...):
a keyed hash with a key that lives as long as the process, so lines of one run can be
correlated but an id cannot be read or looked up from the log.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import cache
from pathlib import Path

from bot.config import Config

_LOG_KEY = secrets.token_bytes(32)


def load_secret(config: Config) -> bytes:
    """security.secret_key, else the key file (created with a random key on first use)."""
    if config.security.secret_key:
        return config.security.secret_key.encode()
    return _key_from_file(config.resolve_path(config.security.key_file))


@cache
def _key_from_file(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = secrets.token_hex(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(fresh)
    return path.read_text().strip().encode()


def keyed_hash(secret: bytes, *parts: str, length: int = 32) -> str:
    """HMAC-SHA256 of the parts (joined by NUL) as hex, shortened to length characters."""
    message = "\0".join(parts).encode("utf-8", "surrogatepass")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:length]


def log_ref(*parts: str) -> str:
    """A short pseudonym of an identifier for log lines (stable within this process only)."""
    return keyed_hash(_LOG_KEY, *parts, length=12)
