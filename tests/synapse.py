"""A throwaway Synapse homeserver for the Matrix tests: SQLite, 127.0.0.1, no federation.

`throwaway_synapse()` writes a config into a temporary folder, starts Synapse on a free port
and stops it (and removes the folder) on exit; the process also dies with its parent. Test
users are registered through the admin API with the registration shared secret.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import hmac
import importlib.util
import json
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SERVER_NAME = "citybot.test"
RELAXED = {"per_second": 1000, "burst_count": 1000}


class SynapseUnavailable(Exception):
    """Synapse is not installed or did not come up."""


def synapse_installed() -> bool:
    """Whether the matrix-synapse package can be imported."""
    return importlib.util.find_spec("synapse") is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _write_config(folder: Path, port: int, secret: str) -> Path:
    from signedjson.key import generate_signing_key, write_signing_keys

    key_path = folder / "signing.key"
    with key_path.open("w") as key_file:
        write_signing_keys(key_file, [generate_signing_key("a")])
    log_config = {
        "version": 1,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "filename": str(folder / "homeserver.log"),
                "formatter": "plain",
            }
        },
        "root": {"level": "WARNING", "handlers": ["file"]},
        "disable_existing_loggers": False,
    }
    (folder / "log.yaml").write_text(yaml.safe_dump(log_config))
    limits = {
        "rc_message": RELAXED,
        "rc_registration": RELAXED,
        "rc_login": {"address": RELAXED, "account": RELAXED, "failed_attempts": RELAXED},
        "rc_joins": {"local": RELAXED, "remote": RELAXED},
        "rc_joins_per_room": RELAXED,
        "rc_invites": {"per_room": RELAXED, "per_user": RELAXED, "per_issuer": RELAXED},
        "rc_admin_redaction": RELAXED,
        "rc_key_requests": RELAXED,
        "rc_3pid_validation": RELAXED,
        "rc_media_create": RELAXED,
        "rc_room_creation": RELAXED,
    }
    config = {
        "server_name": SERVER_NAME,
        "pid_file": str(folder / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(folder / "homeserver.db")}},
        "log_config": str(folder / "log.yaml"),
        "media_store_path": str(folder / "media"),
        "signing_key_path": str(key_path),
        "registration_shared_secret": secret,
        "macaroon_secret_key": secrets.token_hex(16),
        "form_secret": secrets.token_hex(16),
        "report_stats": False,
        "enable_metrics": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "url_preview_enabled": False,
        "presence": {"enabled": False},
        "bcrypt_rounds": 4,
        "caches": {"sync_response_cache_duration": 0},
        **limits,
    }
    path = folder / "homeserver.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@dataclass
class User:
    """A registered account."""

    user_id: str
    localpart: str
    password: str
    access_token: str
    device_id: str


@dataclass
class Synapse:
    """A running (or stopped) throwaway homeserver; stop() and start() keep port and data."""

    folder: Path
    port: int
    secret: str
    config_path: Path
    process: subprocess.Popen[bytes] | None = None
    started_in: float = 0.0
    _admin: User | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The client-server API base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        """Start Synapse and wait until its client API answers."""
        began = time.monotonic()
        log = (self.folder / "stderr.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        log.close()
        deadline = began + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SynapseUnavailable(f"synapse exited: {self.log_tail()}")
            versions = f"{self.url}/_matrix/client/versions"
            with contextlib.suppress(OSError), urllib.request.urlopen(versions, timeout=1):
                self.started_in = time.monotonic() - began
                return
            time.sleep(0.05)
        self.stop()
        raise SynapseUnavailable(f"synapse did not answer in {timeout} s: {self.log_tail()}")

    def stop(self) -> None:
        """Stop Synapse (SIGTERM, then SIGKILL)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log_tail(self, chars: int = 3000) -> str:
        """The end of Synapse's logs, for failure messages."""
        parts = []
        for name in ("stderr.log", "homeserver.log"):
            path = self.folder / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-chars:])
        return "\n".join(parts)

    def _request(self, method: str, path: str, body: dict | None = None, token: str = "") -> dict:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise SynapseUnavailable(f"{method} {path}: {error.code} {error.read()!r}") from None

    def register(self, localpart: str, password: str | None = None, admin: bool = False) -> User:
        """Create an account through the shared-secret admin registration API."""
        password = password or secrets.token_hex(8)
        nonce = self._request("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
        kind = b"admin" if admin else b"notadmin"
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), password.encode(), kind]))
        answer = self._request(
            "POST",
            "/_synapse/admin/v1/register",
            {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            },
        )
        return User(
            answer["user_id"], localpart, password, answer["access_token"], answer["device_id"]
        )

    def admin(self) -> User:
        """The server admin account (registered on first use)."""
        if self._admin is None:
            self._admin = self.register("admin", admin=True)
        return self._admin

    def override_ratelimit(self, user_id: str, per_second: int, burst: int) -> None:
        """Give one user a message rate limit of its own (0, 0: unlimited)."""
        path = f"/_synapse/admin/v1/users/{urllib.parse.quote(user_id)}/override_ratelimit"
        body = {"messages_per_second": per_second, "burst_count": burst}
        self._request("POST", path, body, token=self.admin().access_token)

    def logout(self, user: User) -> None:
        """Invalidate an access token (as when a device is signed out elsewhere)."""
        self._request("POST", "/_matrix/client/v3/logout", {}, token=user.access_token)

    def room_events(self, user: User, room_id: str, limit: int = 50) -> list[dict]:
        """The events of a room as the server stores them, newest first, seen by user."""
        path = f"/_matrix/client/v3/rooms/{room_id}/messages?dir=b&limit={limit}"
        request = urllib.request.Request(
            self.url + path, headers={"Authorization": f"Bearer {user.access_token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["chunk"]


@contextlib.contextmanager
def throwaway_synapse(folder: Path | None = None) -> Iterator[Synapse]:
    """A started Synapse in a temporary folder; stopped and removed afterwards."""
    if not synapse_installed():
        raise SynapseUnavailable("matrix-synapse is not installed (pip install -e '.[test]')")
    own = folder is None
    base = Path(tempfile.mkdtemp(prefix="citybot-synapse-")) if own else folder
    secret = secrets.token_hex(16)
    port = _free_port()
    server = Synapse(base, port, secret, _write_config(base, port, secret))
    try:
        server.start()
        yield server
    finally:
        server.stop()
        if own:
            shutil.rmtree(base, ignore_errors=True)
