"""The citybot command line, run as a real process: chat through a pipe, seed, db, invites."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from storage.migrate import head_revision

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def workdir(tmp_path: Path, nlu_cache_dir: Path) -> Path:
    """A folder with a config whose SQLite file lives in tmp_path (the session's NLU cache)."""
    (tmp_path / "config.yaml").write_text(
        f"storage:\n  url: sqlite+aiosqlite:///data/test.db\nnlu:\n  cache_dir: {nlu_cache_dir}\n"
    )
    return tmp_path


def citybot(workdir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CITYBOT_CONFIG": str(workdir / "config.yaml")}
    env.pop("CITYBOT_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        text=True,
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=180,
        check=False,
    )


def test_piped_chat_prints_replies_and_numbered_buttons(workdir):
    result = citybot(
        workdir,
        "chat",
        "--lang",
        "de",
        stdin="hallo\nich suche arbeit in der pflege in der innenstadt\n1\n",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "[1] Jobs suchen" in out
    # a list page: a line per item to type, no option numbers; "1" is the first item
    assert re.search(r"\n  1 Details · 1 Bewerben\n  2 Details · 2 Bewerben\n", out)
    assert "[2] 1 Bewerben" not in out
    assert "Arbeitgeber:" in out, "typing 1 opened the details of the first job"


def test_chat_users_are_separate_and_english_works(workdir):
    first = citybot(workdir, "chat", "--user", "eva", "--lang", "en", stdin="/language en\nhi\n")
    assert "Find a job" in first.stdout
    second = citybot(workdir, "chat", "--user", "tom", stdin="hallo\n")
    assert "Jobs suchen" in second.stdout, "a new console user starts in the city's language"


def test_commands_and_end_of_input(workdir):
    result = citybot(workdir, "chat", stdin="/help\n/cancel\n")
    assert result.returncode == 0
    assert "/language" in result.stdout and "nichts" in result.stdout


def test_seed_is_idempotent_and_db_upgrade_reports_head(workdir):
    first = citybot(workdir, "seed", "--demo")
    second = citybot(workdir, "seed", "--demo")
    assert first.returncode == 0 and second.returncode == 0, first.stderr
    assert int(re.search(r"jobs_added=(\d+)", first.stdout).group(1)) >= 40
    assert "jobs_added=0" in second.stdout
    upgrade = citybot(workdir, "db", "upgrade")
    assert upgrade.returncode == 0
    assert f"revision {head_revision()}" in upgrade.stdout


def test_admin_invite_then_claim_in_chat(workdir):
    invite = citybot(workdir, "admin", "invite", "employer", "--org", "Café Rosa GmbH")
    assert invite.returncode == 0, invite.stderr
    code = invite.stdout.strip()
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}", code)
    chat = citybot(workdir, "chat", "--lang", "de", stdin=f"/claim {code}\n/myjobs\n")
    assert "Café Rosa GmbH" in chat.stdout
    assert "/postjob" in chat.stdout


def test_admin_invite_for_a_shop_that_does_not_exist_makes_no_code(workdir):
    refused = citybot(workdir, "admin", "invite", "shop_owner", "--org", "Café Rosa")
    assert refused.returncode == 2 and "no organisation 'Café Rosa'" in refused.stderr
    assert refused.stdout == ""
    invite = citybot(workdir, "admin", "invite", "shop_owner", "--org", "cafe-rosa")
    code = invite.stdout.strip()
    chat = citybot(workdir, "chat", "--lang", "de", stdin=f"/claim {code}\n/roles\n")
    assert "„Ladeninhaber“ für Café Rosa." in chat.stdout  # its name, not its key
    assert "• Ladeninhaber – Café Rosa" in chat.stdout


def test_admin_invite_rejects_unknown_role(workdir):
    result = citybot(workdir, "admin", "invite", "mayor")
    assert result.returncode == 2 and "unknown role" in result.stderr


def test_nlu_parse_writes_one_json_per_line(workdir):
    import json

    result = citybot(workdir, "nlu", "parse",
                     stdin="hallo\nany nursing jobs?\npflegejobs in hoerde\n")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["intent"]["name"] for line in lines] == ["greet", "find_job", "find_job"]
    assert lines[1]["entities"][0]["value"] == "nursing"
    # districts come from the database catalogue (the demo data), as in the bot
    places = [e for e in lines[2]["entities"] if e["entity"] == "location"]
    assert [(e["value"], e["extractor"]) for e in places] == [("Hörde", "Catalogue")]


def test_outbox_status_and_retry_failed(workdir):
    import asyncio

    from bot.messages import Reply
    from storage import migrate, outbox
    from storage.db import create_engine, session_factory

    async def fill() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{workdir / 'data' / 'test.db'}")
        await migrate.upgrade(engine)
        async with session_factory(engine)() as db, db.begin():
            for n in range(3):
                row = await outbox.enqueue(
                    db, platform="telegram", recipient=str(n), replies=[Reply("x")]
                )
                assert row is not None
            await outbox.mark_failed(db, row.id, "http 400")
        await engine.dispose()

    asyncio.run(fill())
    status = citybot(workdir, "outbox", "status")
    assert status.returncode == 0, status.stderr
    line = next(x for x in status.stdout.splitlines() if x.startswith("telegram"))
    assert line.split()[1:5] == ["2", "0", "0", "1"]
    retried = citybot(workdir, "outbox", "retry-failed")
    assert "queued again: 1" in retried.stdout
    again = citybot(workdir, "outbox", "status")
    line = next(x for x in again.stdout.splitlines() if x.startswith("telegram"))
    assert line.split()[1:5] == ["3", "0", "0", "0"]
