"""SQLite's WAL is checkpointed in the background, not in a turn's commit."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app import create_app
from nlu import EmbeddedNLU
from storage.db import create_engine, session_factory, wal_checkpointer
from storage.wal_checkpoint import AUTOCHECKPOINT_PAGES, WalCheckpointer
from tests.conftest import make_config

ROWS, ROW_BYTES = 2_000, 1_000  # about 2 MB: some 500 pages, far below the autocheckpoint


async def test_the_wal_reaches_the_database_file_through_the_background_checkpoints(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.db"
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as db, db.begin():
        await db.execute(text("CREATE TABLE filler (n INTEGER, payload TEXT)"))
        level = (await db.execute(text("PRAGMA wal_autocheckpoint"))).scalar()
    assert level == AUTOCHECKPOINT_PAGES, "a pooled connection checkpoints only past this"
    for batch in range(ROWS // 50):
        async with sessions() as db, db.begin():
            await db.execute(text("INSERT INTO filler VALUES (:n, :payload)"),
                             [{"n": batch * 50 + i, "payload": "x" * ROW_BYTES}
                              for i in range(50)])
    written = path.stat().st_size
    assert written < ROWS * ROW_BYTES / 2, "the rows are still in the WAL, not in the file"
    checkpointer = wal_checkpointer(engine)
    assert isinstance(checkpointer, WalCheckpointer)
    checkpointer.every = 0.05
    checkpointer.start()
    try:
        for _ in range(200):  # the file grows while the checkpoint runs, before it is counted
            if path.stat().st_size >= ROWS * ROW_BYTES and checkpointer.checkpoints >= 1:
                break
            await asyncio.sleep(0.05)
        assert path.stat().st_size >= ROWS * ROW_BYTES, "the checkpointer copied the WAL over"
        assert checkpointer.checkpoints >= 1
        async with sessions() as db:  # the pool's connections read on, nothing was blocked
            assert (await db.execute(text("SELECT count(*) FROM filler"))).scalar() == ROWS
    finally:
        await checkpointer.stop()
        await engine.dispose()


async def test_an_app_on_sqlite_checkpoints_until_it_closes(
    tmp_path: Path, nlu_model: EmbeddedNLU
) -> None:
    app = await create_app(make_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"),
                           nlu=nlu_model)
    checkpointer = app.checkpointer
    assert checkpointer is not None and checkpointer._task is not None
    task = checkpointer._task
    await app.close()
    assert task.done() and checkpointer._task is None


def test_postgresql_and_memory_databases_have_no_checkpointer() -> None:
    assert wal_checkpointer(create_engine("sqlite+aiosqlite:///:memory:")) is None
    assert wal_checkpointer(create_engine("postgresql+asyncpg://u@127.0.0.1:1/x")) is None


async def test_a_database_it_cannot_open_is_logged_once_and_the_task_ends(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    checkpointer = WalCheckpointer(str(tmp_path))  # a folder: sqlite3 cannot open it
    checkpointer.every = 0.01
    with caplog.at_level(logging.WARNING, logger="storage.wal_checkpoint"):
        checkpointer.start()
        task = checkpointer._task
        assert task is not None
        await asyncio.wait_for(asyncio.shield(task), 5)
        await checkpointer.stop()
    assert [r.getMessage() for r in caplog.records] == [
        "wal checkpointer cannot open the database error=OperationalError"]
    assert checkpointer.checkpoints == 0
