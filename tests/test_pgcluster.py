"""Tests for the throwaway PostgreSQL helper in tests/pgcluster.py, against a real server."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    import pgcluster
except ModuleNotFoundError:  # tests/ has been made a package: it is tests.pgcluster then
    from tests import pgcluster  # type: ignore[no-redef]

PgInfo = pgcluster.PgInfo
PostgresUnavailable = pgcluster.PostgresUnavailable
binaries_present = pgcluster.binaries_present
throwaway_postgres = pgcluster.throwaway_postgres

pytestmark = pytest.mark.postgres

HAVE_ASYNCPG = importlib.util.find_spec("asyncpg") is not None


def require_server_binaries() -> None:
    """Skip without initdb/pg_ctl/postgres on a developer machine; under CI=true, fail instead."""
    if binaries_present():
        return
    reason = (
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) are not on PATH, "
        "so no throwaway cluster can be started"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true requires them (install PostgreSQL 15 in .ci/run)")
    pytest.skip(f"{reason} (this is a failure under CI=true)")


@pytest.fixture(autouse=True)
def _server_binaries() -> None:
    require_server_binaries()


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgInfo]:
    require_server_binaries()  # module fixtures run before the autouse one
    with throwaway_postgres() as info:
        yield info


# -- a tiny SQL runner: asyncpg when importable (the project depends on it), else psql ---------


def sql(info: PgInfo, *statements: str) -> list[tuple[str, ...]]:
    """Run the statements in one session; return the last one's rows as tuples of text."""
    if HAVE_ASYNCPG:
        return _run_async(_asyncpg_sql(info, statements))
    return _psql_sql(info, statements)


def _run_async(coro: Any) -> Any:
    # A private loop: leaves pytest-asyncio's session loop (and the global policy) untouched.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


async def _asyncpg_sql(info: PgInfo, statements: tuple[str, ...]) -> list[tuple[str, ...]]:
    import asyncpg

    try:
        conn = await asyncpg.connect(dsn=info.dsn, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise ConnectionError(f"asyncpg could not connect: {exc}") from exc
    try:
        for statement in statements[:-1]:
            await conn.execute(statement)
        rows = await conn.fetch(statements[-1])
        return [tuple(str(value) for value in row.values()) for row in rows]
    finally:
        await conn.close()


def _psql_sql(info: PgInfo, statements: tuple[str, ...]) -> list[tuple[str, ...]]:
    psql = pgcluster._find_client("psql")
    if psql is None:
        pytest.fail("neither asyncpg nor psql is available to talk to the cluster")
    args = [arg for statement in statements for arg in ("-c", statement)]
    result = subprocess.run(
        [psql, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", *args, info.dsn],
        env={**os.environ, "PGPASSWORD": info.password, "PGSSLMODE": "disable"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        raise ConnectionError(f"psql failed: {result.stderr.strip()}")
    # psql prints every -c's rows; only the last statement here returns any.
    return [tuple(line.split("\t")) for line in result.stdout.splitlines() if line]


def show(info: PgInfo, setting: str) -> str:
    return sql(info, f"SHOW {setting}")[0][0]


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket in LISTEN state on the port (Linux /proc/net/tcp*)."""
    found: set[str] = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            local, _remote, state = line.split()[1:4]
            address, hex_port = local.split(":")
            if state != "0A" or int(hex_port, 16) != port:
                continue
            raw = bytes.fromhex(address)
            # the kernel prints each 32-bit word in host (little-endian) order
            packed = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(socket.inet_ntop(family, packed))
    return found


def assert_refused(port: int) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def process_alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie is dead, merely not yet reaped by init


def record_temp_dirs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    made: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(*args: Any, **kwargs: Any) -> str:
        path = real_mkdtemp(*args, **kwargs)
        made.append(path)
        return path

    monkeypatch.setattr(pgcluster.tempfile, "mkdtemp", mkdtemp)
    return made


# -- the running cluster ---------------------------------------------------------------------


def test_pginfo_urls(cluster: PgInfo) -> None:
    base = f"{cluster.user}:{cluster.password}@127.0.0.1:{cluster.port}/citybot_test"
    assert cluster.host == "127.0.0.1"
    assert cluster.database == "citybot_test"
    assert cluster.dsn == f"postgresql://{base}"
    assert cluster.url() == f"postgresql+asyncpg://{base}"
    assert cluster.url("psycopg") == f"postgresql+psycopg://{base}"
    assert cluster.password not in repr(cluster)
    assert len(cluster.password) >= 20


def test_select_one(cluster: PgInfo) -> None:
    assert sql(cluster, "SELECT 1") == [("1",)]
    assert sql(cluster, "SELECT current_user, current_database()") == [
        (cluster.user, "citybot_test")
    ]


def test_table_round_trip(cluster: PgInfo) -> None:
    rows = sql(
        cluster,
        "CREATE TABLE round_trip (id integer PRIMARY KEY, name text NOT NULL)",
        "INSERT INTO round_trip VALUES (1, 'Rathaus'), (2, 'Bürgeramt')",
        "SELECT id, name FROM round_trip ORDER BY id",
    )
    assert rows == [("1", "Rathaus"), ("2", "Bürgeramt")]
    # committed, visible from a new session
    assert sql(cluster, "SELECT count(*) FROM round_trip") == [("2",)]


@pytest.mark.skipif(not HAVE_ASYNCPG, reason="asyncpg not installed; psql covers the other tests")
def test_sqlalchemy_url_connects(cluster: PgInfo) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def query() -> int:
        engine = create_async_engine(cluster.url())
        try:
            async with engine.connect() as conn:
                return int((await conn.execute(text("SELECT 41 + 1"))).scalar_one())
        finally:
            await engine.dispose()

    assert _run_async(query()) == 42


def test_password_is_required(cluster: PgInfo) -> None:
    wrong = PgInfo(port=cluster.port, user=cluster.user, password="wrong", database="postgres")
    with pytest.raises(ConnectionError, match="password authentication failed"):
        sql(wrong, "SELECT 1")
    methods = sql(cluster, "SELECT DISTINCT auth_method FROM pg_hba_file_rules")
    assert methods == [("scram-sha-256",)]


def test_server_settings(cluster: PgInfo) -> None:
    assert show(cluster, "port") == str(cluster.port)
    assert show(cluster, "listen_addresses") == "127.0.0.1"
    assert show(cluster, "fsync") == "off"
    assert show(cluster, "synchronous_commit") == "off"
    assert show(cluster, "full_page_writes") == "off"
    assert show(cluster, "max_connections") == "200"
    data_dir = Path(show(cluster, "data_directory"))
    assert show(cluster, "unix_socket_directories") == str(data_dir.parent / "sock")


def test_listens_on_127_0_0_1_only(cluster: PgInfo) -> None:
    if not Path("/proc/net/tcp").exists():
        pytest.fail("/proc/net/tcp is needed to inspect listening sockets (Linux only)")
    assert listening_addresses(cluster.port) == {"127.0.0.1"}
    if socket.has_ipv6:
        with pytest.raises(OSError):  # refused, or no IPv6 loopback at all
            socket.create_connection(("::1", cluster.port), timeout=5).close()


def test_create_database(cluster: PgInfo) -> None:
    extra = cluster.create_database("citybot_extra")
    assert extra == PgInfo(
        port=cluster.port, user=cluster.user, password=cluster.password, database="citybot_extra"
    )
    assert extra.dsn.endswith(f":{cluster.port}/citybot_extra")
    rows = sql(
        extra,
        "CREATE TABLE only_here (x integer)",
        "INSERT INTO only_here VALUES (7)",
        "SELECT current_database(), x FROM only_here",
    )
    assert rows == [("citybot_extra", "7")]
    assert sql(cluster, "SELECT to_regclass('only_here') IS NULL") in ([("True",)], [("t",)])
    with pytest.raises(PostgresUnavailable, match="already exists"):
        cluster.create_database("citybot_extra")


# -- start-up and tear-down -----------------------------------------------------------------


@pytest.mark.parametrize("raise_inside", [False, True], ids=["normal-exit", "exception"])
def test_exit_stops_server_and_removes_temp_dir(raise_inside: bool) -> None:
    class Boom(Exception):
        pass

    expectation = pytest.raises(Boom) if raise_inside else contextlib.nullcontext()
    with expectation, throwaway_postgres(database="lifecycle") as info:
        assert sql(info, "SELECT current_database()") == [("lifecycle",)]
        data_dir = Path(show(info, "data_directory"))
        pid = int((data_dir / "postmaster.pid").read_text().split()[0])
        assert data_dir.parent.name.startswith("citybot-pg-")
        assert process_alive(pid)
        if raise_inside:
            raise Boom
    assert_refused(info.port)
    assert not process_alive(pid)
    assert not data_dir.exists()
    assert not data_dir.parent.exists()


def test_port_taken_after_choosing_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        real_free_port = pgcluster._free_port
        chosen: list[int] = []

        def free_port() -> int:
            chosen.append(taken if not chosen else real_free_port())
            return chosen[-1]

        monkeypatch.setattr(pgcluster, "_free_port", free_port)
        with throwaway_postgres() as info:
            assert chosen[0] == taken
            assert len(chosen) == 2
            assert info.port == chosen[1] != taken
            assert sql(info, "SELECT 1") == [("1",)]


def test_start_failure_raises_with_log_tail(monkeypatch: pytest.MonkeyPatch) -> None:
    made = record_temp_dirs(monkeypatch)
    monkeypatch.setattr(pgcluster, "PORT_ATTEMPTS", 2)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        monkeypatch.setattr(pgcluster, "_free_port", lambda: taken)
        with pytest.raises(PostgresUnavailable) as excinfo, throwaway_postgres():
            pytest.fail("the server should not have started")
    message = str(excinfo.value)
    assert "could not bind a free port" in message
    assert "Address already in use" in message  # from the server log's tail
    assert len(made) == 1
    assert not Path(made[0]).exists()


def test_atexit_cleans_up_when_the_with_block_never_exits(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import json, sys, tempfile
        sys.path.insert(0, {str(Path(pgcluster.__file__).parent)!r})
        import pgcluster
        made = []
        real = tempfile.mkdtemp
        tempfile.mkdtemp = lambda *a, **k: made.append(real(*a, **k)) or made[-1]
        manager = pgcluster.throwaway_postgres()
        info = manager.__enter__()  # never exited: only atexit can clean up
        print(json.dumps({{"port": info.port, "dir": made[0]}}), flush=True)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout.splitlines()[-1])
    assert_refused(state["port"])
    assert not Path(state["dir"]).exists()


def test_invalid_database_name() -> None:
    with (
        pytest.raises(ValueError, match="invalid PostgreSQL database name"),
        throwaway_postgres(database=""),
    ):
        pass
