"""`kill -9` of `citybot run` (Telegram polling, SQLite) at any moment loses no answer.

100 chats write 5 messages each; the process is killed after K answers reached the fake
Bot API and started again. Every message must be answered, and at most one answer per
chat may arrive twice (the one whose acknowledgement the kill cut off). The first process
sends slowly (a low overall rate), so at the kill many answers are committed but not yet
sent: the restarted process must send them at once, from the outbox.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.fake_bot_api import FakeBotAPI, User
from tests.test_run_processes import start_citybot, stop, wait_for_log
from tests.test_telegram_run import journal_states, write_config

CHATS, MESSAGES = 100, 5
TAG = re.compile(r"/(m\d+)")


def answers(fake: FakeBotAPI) -> Counter[tuple[int, str]]:
    """How often each (chat, message tag) was answered."""
    found: Counter[tuple[int, str]] = Counter()
    for sent in fake.sent:
        match = TAG.search(sent.text)
        if match:
            found[(sent.chat_id, match.group(1))] += 1
    return found


def configure(path: Path, overall_per_second: int) -> None:
    """Set the send rate; the scheduler stays off (its own freeze is another test's)."""
    raw = yaml.safe_load(path.read_text())
    raw["telegram"]["rate_limits"] = {"overall_per_second": overall_per_second}
    raw["scheduler"]["enabled"] = False
    path.write_text(yaml.safe_dump(raw))


@pytest.mark.parametrize("kill_after", [30, 150])
async def test_kill_9_at_any_moment_loses_no_answer_and_repeats_at_most_one_per_chat(
    tmp_path: Path, nlu_cache_dir: Path, kill_after: int
) -> None:
    fake = FakeBotAPI()
    telegram = {"token": fake.token, "api_base_url": await fake.start()}
    config = write_config(tmp_path, telegram, nlu_cache_dir)
    configure(config, overall_per_second=10)
    log, log2 = tmp_path / "first.log", tmp_path / "second.log"
    users = [User(7_000_000 + n, f"U{n}") for n in range(CHATS)]
    expected = {(u.id, f"m{k}") for u in users for k in range(1, MESSAGES + 1)}
    first = await start_citybot(config, log)
    second = None
    try:
        await wait_for_log(log, "telegram started", 90)
        for k in range(1, MESSAGES + 1):
            for user in users:
                await fake.say(user, f"/m{k}")
        reached = await fake.wait_for(lambda: len(fake.sent) >= kill_after, 60)
        assert reached, log.read_text()[-2000:]
        first.kill()
        await first.wait()
        at_kill = len(fake.sent)
        unsent = Counter(await journal_states(tmp_path / "citybot.db"))["sending"]
        configure(config, overall_per_second=100)
        second = await start_citybot(config, log2)
        await wait_for_log(log2, "telegram started", 90)
        restarted = time.monotonic()
        complete = await fake.wait_for(lambda: expected <= set(answers(fake)), 90)
        elapsed = time.monotonic() - restarted
        await fake.quiet(0.5)
    finally:
        await stop(first)
        if second is not None:
            await stop(second)
        await fake.stop()
    got = answers(fake)
    lost = expected - set(got)
    per_chat = Counter(chat for (chat, _tag), n in got.items() for _ in range(n - 1))
    print(
        f"\nkill after {kill_after} answers ({at_kill} sent, {unsent} committed but not "
        f"acknowledged): lost={len(lost)} duplicates={sum(per_chat.values())} "
        f"in {len(per_chat)} chats (max per chat {max(per_chat.values(), default=0)}); "
        f"all answered {elapsed:.1f} s after the restarted process connected; "
        f"{len(fake.methods('getUpdates'))} getUpdates calls"
    )
    assert complete and not lost, f"{len(lost)} messages never answered"
    assert max(per_chat.values(), default=0) <= 1, "at most one answer per chat twice"
    assert at_kill < len(expected), "the kill came while answers were still going out"
    states = Counter(await journal_states(tmp_path / "citybot.db"))
    assert states == {"sent": len(expected)}, states
