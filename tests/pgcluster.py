"""Throwaway PostgreSQL clusters for the test suite (initdb + pg_ctl, standard library only)."""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

__all__ = ["PgInfo", "PostgresUnavailable", "binaries_present", "throwaway_postgres"]

SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
"""Binaries the cluster itself needs; psql/createdb are only used by PgInfo.create_database."""

SYSTEM_USER = "postgres"
"""Unprivileged account that runs initdb/postgres when the tests run as root."""

SUPERUSER = "citybot"
"""Name of the bootstrap superuser (password-authenticated) created by initdb."""

HOST = "127.0.0.1"
START_TIMEOUT = 30  # seconds pg_ctl -w waits for the server to accept connections
STOP_TIMEOUT = 15
COMMAND_TIMEOUT = 60  # initdb, single-user mode, psql/createdb
PORT_ATTEMPTS = 5
SHM_DIR = "/dev/shm"
SHM_MIN_FREE = 1 << 30  # bytes free on /dev/shm to put a cluster there (data dir ~40 MB + DSM)
LOG_TAIL_LINES = 25

SERVER_SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "logging_collector": "off",
}

# Address-in-use failures (port taken between choosing and binding) are retried on a new port.
_PORT_CLASH_MARKERS = ("Address already in use", "could not create any TCP/IP sockets")


class PostgresUnavailable(RuntimeError):
    """The throwaway PostgreSQL cluster could not be created, started or used."""


@dataclass(frozen=True, kw_only=True)
class PgInfo:
    """Connection details of a running throwaway cluster (password auth over TCP)."""

    host: str = HOST
    port: int
    user: str
    password: str = dataclasses.field(repr=False)
    database: str

    def url(self, driver: str = "asyncpg") -> str:
        """SQLAlchemy URL, e.g. ``postgresql+asyncpg://user:pw@127.0.0.1:PORT/db``."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{self._netloc_and_path()}"

    @property
    def dsn(self) -> str:
        """libpq/asyncpg DSN, ``postgresql://user:pw@127.0.0.1:PORT/db``."""
        return f"postgresql://{self._netloc_and_path()}"

    def _netloc_and_path(self) -> str:
        user = quote(self.user, safe="")
        password = quote(self.password, safe="")
        return f"{user}:{password}@{self.host}:{self.port}/{quote(self.database, safe='')}"

    def create_database(self, name: str) -> PgInfo:
        """Create a fresh database on the same cluster and return its connection details.

        Uses ``psql`` if it can be found (next to the ``postgres`` binary or on PATH), otherwise
        ``createdb``; raises PostgresUnavailable if neither exists or the command fails.
        """
        _check_identifier(name)
        env = _client_env(self.password)
        conn = ["-h", self.host, "-p", str(self.port), "-U", self.user]
        psql = _find_client("psql")
        if psql is not None:
            cmd = [
                psql,
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                *conn,
                "-d",
                self.database,
                "-c",
                f"CREATE DATABASE {_quote_ident(name)}",
            ]
        else:
            createdb = _find_client("createdb")
            if createdb is None:
                raise PostgresUnavailable(
                    "create_database needs the PostgreSQL client 'psql' or 'createdb'; "
                    "neither is on PATH nor next to the 'postgres' binary"
                )
            cmd = [createdb, *conn, f"--maintenance-db={self.database}", name]
        result = _run(cmd, env=env, what=f"creating database {name!r}")
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"creating database {name!r} failed (exit {result.returncode}): {_output(result)}"
            )
        return dataclasses.replace(self, database=name)


def binaries_present() -> bool:
    """True if initdb, pg_ctl and postgres are all on PATH."""
    return all(shutil.which(name) for name in SERVER_BINARIES)


@contextmanager
def throwaway_postgres(*, database: str = "citybot_test") -> Iterator[PgInfo]:
    """Start a private, non-durable PostgreSQL cluster on a free 127.0.0.1 port.

    Yields its PgInfo; on exit the server is stopped (``pg_ctl stop -m immediate``) and its temp
    dir removed. The same clean-up is registered with atexit in case the ``with`` body never
    finishes normally. Raises PostgresUnavailable with the server log's tail if it cannot start.
    """
    _check_identifier(database)
    cluster = _Cluster(database)
    try:
        info = cluster.start()
    except BaseException:
        cluster.cleanup()
        raise
    try:
        yield info
    finally:
        cluster.cleanup()


class _Cluster:
    """One temp dir with data dir, socket dir and server log; owns the running postmaster."""

    def __init__(self, database: str) -> None:
        missing = [name for name in SERVER_BINARIES if not shutil.which(name)]
        if missing:
            raise PostgresUnavailable(
                f"PostgreSQL server binaries not on PATH: {', '.join(missing)}"
            )
        self.database = database
        self.password = secrets.token_urlsafe(24)
        self.run_as: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self.run_as = pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                raise PostgresUnavailable(
                    f"running as root, but the system user {SYSTEM_USER!r} that should run "
                    "initdb/postgres does not exist"
                ) from None
        self.base = Path(tempfile.mkdtemp(prefix="citybot-pg-", dir=self._temp_root()))
        self.data = self.base / "data"
        self.sockets = self.base / "sock"
        self.log = self.base / "server.log"
        self._lock = threading.Lock()
        self._cleaned = False
        self._owner_pid = os.getpid()  # a forked child must not tear down its parent's cluster
        atexit.register(self.cleanup)

    def _temp_root(self) -> str:
        """Where the temp dir goes: RAM-backed /dev/shm if roomy (initdb ~3x faster), else TMPDIR.

        When root, the directory must also be reachable by the unprivileged server user.
        """
        candidates = [SHM_DIR, tempfile.gettempdir(), "/tmp"]
        for candidate in candidates:
            try:
                root = Path(candidate).resolve(strict=True)
                if not root.is_dir() or not os.access(root, os.W_OK | os.X_OK):
                    continue
                if candidate == SHM_DIR:
                    stats = os.statvfs(root)
                    if stats.f_bavail * stats.f_frsize < SHM_MIN_FREE:
                        continue
                if self.run_as is None or all(
                    d.stat().st_mode & stat.S_IXOTH or d.stat().st_uid == self.run_as.pw_uid
                    for d in (root, *root.parents)
                ):
                    return str(root)
            except OSError:
                continue
        raise PostgresUnavailable(f"no usable temp directory among {candidates}")

    # -- start-up -------------------------------------------------------------------------------

    def start(self) -> PgInfo:
        self.sockets.mkdir()
        pwfile = self.base / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.run_as is not None:
            for path in (self.base, self.sockets, pwfile):
                os.chown(path, self.run_as.pw_uid, self.run_as.pw_gid)
        pwfile.chmod(0o600)
        self._check(
            [
                "initdb",
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "--no-locale",
                "--encoding=UTF8",
                "--no-sync",
                "--no-instructions",
            ],
            what="initdb",
        )
        pwfile.unlink()
        settings = {
            **SERVER_SETTINGS,
            "unix_socket_directories": f"'{_conf_escape(str(self.sockets))}'",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# throwaway test cluster (tests/pgcluster.py)\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        if self.database != "postgres":
            # Single-user mode needs only the server binary (no psql) and takes ~0.1 s.
            self._check(
                [
                    "postgres",
                    "--single",
                    "-D",
                    str(self.data),
                    "-F",
                    "-c",
                    "exit_on_error=true",
                    "template1",
                ],
                what=f"creating database {self.database!r}",
                stdin=f"CREATE DATABASE {_quote_ident(self.database)};\n",
            )
        clash = ""
        for _ in range(PORT_ATTEMPTS):
            port = _free_port()
            ok, output = self._pg_ctl_start(port)
            if ok:
                return PgInfo(
                    port=port, user=SUPERUSER, password=self.password, database=self.database
                )
            log_tail = self._log_tail()
            if not any(marker in log_tail for marker in _PORT_CLASH_MARKERS):
                raise PostgresUnavailable(
                    f"PostgreSQL did not start on {HOST}:{port} within {START_TIMEOUT} s "
                    f"(pg_ctl: {output or 'no output'}).\nServer log tail ({self.log}):\n"
                    f"{log_tail}"
                )
            clash = log_tail
        raise PostgresUnavailable(
            f"PostgreSQL could not bind a free port on {HOST} in {PORT_ATTEMPTS} attempts.\n"
            f"Server log tail:\n{clash}"
        )

    def _pg_ctl_start(self, port: int) -> tuple[bool, str]:
        with contextlib.suppress(FileNotFoundError):
            self.log.unlink()  # so the tail shown on failure belongs to this attempt
        result = self._run(
            [
                "pg_ctl",
                "start",
                "-w",
                "-t",
                str(START_TIMEOUT),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                f"-p {port}",
            ],
            what="pg_ctl start",
            timeout=START_TIMEOUT + 15,
        )
        if result.returncode == 0:
            return True, ""
        self._stop_server()  # in case it came up after pg_ctl gave up waiting
        return False, _output(result)

    # -- shutdown -------------------------------------------------------------------------------

    def cleanup(self) -> None:
        """Stop the server and remove the temp dir; idempotent, safe from atexit."""
        with self._lock:
            if self._cleaned or os.getpid() != self._owner_pid:
                return
            self._cleaned = True
        atexit.unregister(self.cleanup)
        try:
            self._stop_server()  # also covers a server that came up before an interrupt
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def _stop_server(self) -> None:
        if not (self.data / "postmaster.pid").exists():
            return
        try:
            result = self._run(
                [
                    "pg_ctl",
                    "stop",
                    "-w",
                    "-m",
                    "immediate",
                    "-t",
                    str(STOP_TIMEOUT),
                    "-D",
                    str(self.data),
                ],
                what="pg_ctl stop",
                timeout=STOP_TIMEOUT + 10,
            )
            stopped = result.returncode == 0
        except PostgresUnavailable:
            stopped = False
        if not stopped:
            self._kill_postmaster()

    def _kill_postmaster(self) -> None:
        """Last resort if pg_ctl stop failed: SIGQUIT (immediate shutdown), then SIGKILL."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.05)

    # -- helpers --------------------------------------------------------------------------------

    def _log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no server log)"
        return "\n".join(lines[-LOG_TAIL_LINES:]) or "(server log is empty)"

    def _run(
        self,
        cmd: list[str],
        *,
        what: str,
        stdin: str | None = None,
        timeout: float = COMMAND_TIMEOUT,
    ) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, Any] = {}
        env = _server_env()
        if self.run_as is not None:
            kwargs.update(user=self.run_as.pw_uid, group=self.run_as.pw_gid, extra_groups=[])
            env.update(HOME=str(self.base), USER=SYSTEM_USER, LOGNAME=SYSTEM_USER)
        return _run(cmd, env=env, what=what, stdin=stdin, timeout=timeout, cwd=self.base, **kwargs)

    def _check(self, cmd: list[str], *, what: str, stdin: str | None = None) -> None:
        result = self._run(cmd, what=what, stdin=stdin)
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"{what} failed (exit {result.returncode}): {_output(result)}"
            )


def _run(
    cmd: list[str],
    *,
    env: dict[str, str],
    what: str,
    stdin: str | None = None,
    timeout: float = COMMAND_TIMEOUT,
    **kwargs: Any,
) -> subprocess.CompletedProcess[str]:
    if stdin is None:
        kwargs["stdin"] = subprocess.DEVNULL
    try:
        return subprocess.run(
            cmd,
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
            **kwargs,
        )
    except subprocess.TimeoutExpired as exc:
        raise PostgresUnavailable(f"{what} timed out after {timeout} s: {cmd[0]}") from exc
    except OSError as exc:
        raise PostgresUnavailable(f"{what} could not run {cmd[0]!r}: {exc}") from exc


def _output(result: subprocess.CompletedProcess[str]) -> str:
    text = "\n".join(part.strip() for part in (result.stderr, result.stdout) if part.strip())
    return "\n".join(text.splitlines()[-LOG_TAIL_LINES:]) or "no output"


def _server_env() -> dict[str, str]:
    """The caller's environment minus PG* variables (PGDATA, PGPORT, ...) and with a C locale."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env.update(LC_ALL="C", LANG="C")
    return env


def _client_env(password: str) -> dict[str, str]:
    env = _server_env()
    env.update(PGPASSWORD=password, PGSSLMODE="disable", PGCONNECT_TIMEOUT="10")
    return env


def _find_client(name: str) -> str | None:
    """A client binary next to the server's ``postgres`` (same version), else on PATH."""
    server = shutil.which("postgres")
    if server is not None:
        sibling = Path(os.path.realpath(server)).with_name(name)
        if os.access(sibling, os.X_OK):
            return str(sibling)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _check_identifier(name: str) -> None:
    if not name or not name.isprintable() or len(name.encode()) > 63:
        raise ValueError(f"invalid PostgreSQL database name: {name!r}")


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _conf_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "''")
