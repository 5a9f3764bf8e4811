"""`citybot run` with Telegram configured, as a real process against the fake Bot API."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
import pytest
import yaml
from sqlalchemy import text

from storage.db import create_engine
from tests.fake_bot_api import FakeBotAPI, User
from tests.test_run_processes import start_citybot, stop, wait_for_log


def write_config(folder: Path, telegram: dict, nlu_cache: Path, url: str = "") -> Path:
    url = url or f"sqlite+aiosqlite:///{folder / 'citybot.db'}"
    config = {
        "storage": {"url": url, "demo_data": False},
        "nlu": {"cache_dir": str(nlu_cache)},
        "logging": {"level": "DEBUG"},
        "outbox": {"poll_seconds": 0.1},
        "scheduler": {"leader_check_seconds": 0.5},
        "web": {"listen_port": 0},
        "telegram": {"poll_timeout_seconds": 2, **telegram},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_citybot_run_answers_on_telegram_and_never_logs_the_token(
    tmp_path: Path, nlu_cache_dir: Path, mode: str
) -> None:
    fake = FakeBotAPI()
    telegram: dict = {"token": fake.token, "api_base_url": await fake.start()}
    port = free_port()
    if mode == "webhook":
        telegram["webhook"] = {
            "url": f"http://127.0.0.1:{port}/tg",
            "secret_token": "run-secret",
            "listen_port": port,
        }
    log = tmp_path / "citybot.log"
    process = await start_citybot(write_config(tmp_path, telegram, nlu_cache_dir), log)
    try:
        await wait_for_log(log, "telegram started", 90)
        assert (fake.webhook is not None) == (mode == "webhook")
        ada = User(9001, "Ada", "en")
        await fake.say(ada, "/help")
        assert await fake.wait_for(lambda: fake.sent_to(ada.id), 20), log.read_text()[-2000:]
        if mode == "webhook":
            healthz = f"http://127.0.0.1:{port}/healthz"
            async with aiohttp.ClientSession() as session, session.get(healthz) as response:
                assert response.status == 200
    finally:
        await stop(process)
        await fake.stop()
    text = log.read_text()
    assert fake.token not in text and fake.token.split(":")[1] not in text
    assert "/help" not in text, "no message texts in the log"
    assert await journal_states(tmp_path / "citybot.db") == ["sent"], (
        "the answer was journaled and acknowledged, so the outbox will not send it again"
    )
    assert len(fake.sent_to(ada.id)) == 1


async def journal_states(database: Path) -> list[str]:
    """The states of the journaled direct answers in a citybot SQLite database."""
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT status FROM outbox"))
            return [row[0] for row in rows]
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_only_the_leader_polls_and_the_other_takes_over(
    pg_cluster, tmp_path: Path, nlu_cache_dir: Path
) -> None:
    fake = FakeBotAPI()
    telegram = {"token": fake.token, "api_base_url": await fake.start()}
    url = pg_cluster.create_database("telegram_polling").url()
    config = write_config(tmp_path, telegram, nlu_cache_dir, url)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    first = await start_citybot(config, logs[0])
    processes = [first]
    try:
        await wait_for_log(logs[0], "telegram started", 90)
        processes.append(await start_citybot(config, logs[1]))
        await wait_for_log(logs[1], "citybot running", 90)
        ada = User(9101, "Ada", "de")
        await fake.say(ada, "/help")
        assert await fake.wait_for(lambda: len(fake.sent_to(ada.id)) == 1, 20)
        assert "telegram started" not in logs[1].read_text(), "the follower does not poll"

        first.kill()
        await first.wait()
        await wait_for_log(logs[1], "telegram started", 30)
        await fake.say(ada, "/help")
        assert await fake.wait_for(lambda: len(fake.sent_to(ada.id)) == 2, 20)
    finally:
        for process in processes:
            await stop(process)
        await fake.stop()
    conflicts = [e for e in fake.errors if e == ("getUpdates", 409)]
    assert len(conflicts) <= 1, "at most the dead leader's last long poll is cut off"
