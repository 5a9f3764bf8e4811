"""The citybot command line: chat, seed, db upgrade, admin invite, shop poster, nlu."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.config import Config, ConfigError, load_config
from bot.transport import TransportStartError
from nlu import cli as nlu_cli

if TYPE_CHECKING:
    from bot.messages import Reply

logger = logging.getLogger("citybot")


QUIET_LOGGERS = (
    "sqlalchemy", "aiosqlite", "asyncpg", "apscheduler.jobstores", "alembic.runtime.plugins"
)


class UsageError(Exception):
    """A command-line request that cannot be carried out as given."""


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        help="config file (default: $CITYBOT_CONFIG or ./config.yaml)",
    )
    parser = argparse.ArgumentParser(
        prog="citybot", parents=[common], description="A German city's citizen-service chatbot."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", parents=[common], help="chat in the terminal")
    chat.add_argument("--user", help="console identity (default: config console.user)")
    chat.add_argument("--lang", choices=["de", "en"], help="chat language")

    sub.add_parser("run", parents=[common], help="run the bot with every configured transport")

    box = sub.add_parser("outbox", parents=[common], help="outgoing message queue")
    box_sub = box.add_subparsers(dest="outbox_command", required=True)
    box_sub.add_parser("status", parents=[common], help="pending, sent, failed per transport")
    box_sub.add_parser("retry-failed", parents=[common], help="queue failed messages again")

    seed = sub.add_parser("seed", parents=[common], help="load data")
    seed.add_argument("--demo", action="store_true", required=True, help="the demo data")

    db = sub.add_parser("db", parents=[common], help="database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", parents=[common], help="apply migrations")

    admin = sub.add_parser("admin", parents=[common], help="administration")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    invite = admin_sub.add_parser("invite", parents=[common], help="create an invite code")
    invite.add_argument("role")
    invite.add_argument("--org", help="company, shop, school or department")

    evenings = sub.add_parser("evenings", parents=[common], help="parent evenings")
    ev_sub = evenings.add_subparsers(dest="evenings_command", required=True)
    ev_import = ev_sub.add_parser("import", parents=[common], help="import a term schedule (CSV)")
    ev_import.add_argument("file")
    ev_import.add_argument("--school", required=True, help="the school's key")
    ppe = sub.add_parser("ppe", parents=[common], help="PPE coordination")
    ppe_sub = ppe.add_subparsers(dest="ppe_command", required=True)
    ppe_report = ppe_sub.add_parser(
        "report", parents=[common], help="write the stock chart (PNG) and movements (CSV)"
    )
    ppe_report.add_argument("--out", required=True, help="folder for the files")
    shop = sub.add_parser("shop", parents=[common], help="shops")
    shop_sub = shop.add_subparsers(dest="shop_command", required=True)
    poster = shop_sub.add_parser("poster", parents=[common], help="a printable poster (PDF/PNG)")
    poster.add_argument("key", help="the shop's key, e.g. cafe-rosa")
    poster.add_argument("--out", help="output file, .pdf or .png (default: poster-KEY.pdf)")

    nlu_cli.register(sub, common)
    return parser


def _setup_logging(config: Config, quiet: bool = False) -> None:
    level = logging.WARNING if quiet and config.logging.level != "DEBUG" else config.logging.level
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # their DEBUG output carries SQL parameters and rows: message texts and personal data
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


async def _chat(config: Config, user: str | None, lang: str | None) -> None:
    from bot.app import create_app
    from bot.console import ConsoleTransport

    app = await create_app(config)
    name = user or config.console.user
    try:
        files = config.resolve_path("data/console-files")
        transport = ConsoleTransport(
            name, files, language=lang, inbox=partial(console_inbox, app.sessions, name)
        )
        await transport.run(app.dispatcher.handle)
    finally:
        await app.close()


async def console_inbox(sessions: Any, user: str) -> list[Reply]:
    """The messages queued for a terminal user (shop updates, job alerts, a place from the
    waiting list …), taken from the outbox and marked sent, in one transaction."""
    from bot.console import PLATFORM
    from storage import outbox

    async with sessions() as db, db.begin():
        rows = await outbox.claim(
            db, PLATFORM, "console-chat", limit=50, lease=timedelta(minutes=5), recipient=user
        )
        # without their buttons: pressed by number they would act on this turn's offer instead
        replies = [replace(reply, buttons=[]) for row in rows
                   for reply in outbox.deserialise(row.payload)]
        for row in rows:
            await outbox.mark_sent(db, row.id)
    return replies


async def _seed(config: Config) -> None:
    from bot.app import prepare_database
    from storage.db import session_factory
    from storage.demo import load_demo

    engine = await prepare_database(config, seed=False)
    try:
        async with session_factory(engine)() as db, db.begin():
            counts = await load_demo(db)
    finally:
        await engine.dispose()
    print("demo data: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


async def _upgrade(config: Config) -> None:
    from storage import migrate
    from storage.db import create_engine

    engine = create_engine(config.database_url)
    try:
        await migrate.upgrade(engine)
        print(f"database at revision {await migrate.current_revision(engine)}")
    finally:
        await engine.dispose()


async def _invite(config: Config, role: str, org: str | None) -> None:
    import handlers
    from bot.app import prepare_database
    from bot.registry import org_label
    from storage.db import session_factory
    from storage.users import create_invite

    handlers.load_all()  # the services name their organisations (shops, schools, departments)
    engine = await prepare_database(config)  # demo data as `chat` loads it: its shops exist
    try:
        async with session_factory(engine)() as db, db.begin():
            if org and await org_label(db, role, org) is None:
                raise ValueError(f"there is no organisation {org!r} for the role {role}")
            code = await create_invite(db, role, org)
    except ValueError as error:
        raise UsageError(str(error)) from None
    finally:
        await engine.dispose()
    print(code.code)


async def _poster(config: Config, key: str, out: str | None) -> None:
    from pathlib import Path

    from bot.app import prepare_database
    from handlers.shop_poster import deep_link, poster_format, render_poster
    from storage.db import session_factory
    from storage.shops import shop_by_key

    if not config.shops.telegram_bot:
        raise UsageError("set shops.telegram_bot (the bot's username) for the poster's link")
    path = Path(out or f"poster-{key}.pdf")
    try:
        fmt = poster_format(path)
    except ValueError as error:
        raise UsageError(str(error)) from None
    engine = await prepare_database(config)
    try:
        async with session_factory(engine)() as db:
            shop = await shop_by_key(db, key)
    finally:
        await engine.dispose()
    if shop is None:
        raise UsageError(f"no shop with the key {key!r}")
    matrix_id = config.matrix.user_id if config.matrix else None
    link = deep_link(config.shops.telegram_bot, shop.key)
    path.write_bytes(render_poster(shop, link, matrix_id, fmt))
    print(f"{path}: poster of {shop.key} ({link})")


async def _outbox(config: Config, command: str) -> None:
    from datetime import timedelta

    from bot.app import prepare_database
    from storage import outbox
    from storage.db import session_factory

    engine = await prepare_database(config, seed=False)
    try:
        async with session_factory(engine)() as db, db.begin():
            if command == "retry-failed":
                hours = config.outbox.give_up_hours
                count = await outbox.retry_failed(db, timedelta(hours=hours))
                print(f"queued again: {count}")
                return
            rows = await outbox.status(db)
    finally:
        await engine.dispose()
    print(
        f"{'transport':<12} {'pending':>8} {'sending':>8} {'sent':>8} {'failed':>8}  oldest pending"
    )
    for row in rows:
        oldest = row.oldest_pending.isoformat(timespec="seconds") if row.oldest_pending else "-"
        print(
            f"{row.platform:<12} {row.pending:>8} {row.sending:>8} {row.sent:>8} "
            f"{row.failed:>8}  {oldest}"
        )
    if not rows:
        print("(the outbox is empty)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `citybot` command."""
    args = _parser().parse_args(argv)
    try:
        config = load_config(getattr(args, "config", None))
    except ConfigError as error:
        print(f"citybot: config error: {error}", file=sys.stderr)
        return 2
    _setup_logging(config, quiet=args.command in ("chat", "nlu", "shop"))
    try:
        if args.command == "chat":
            asyncio.run(_chat(config, args.user, args.lang))
        elif args.command == "run":
            from bot.runner import run

            asyncio.run(run(config))
        elif args.command == "outbox":
            asyncio.run(_outbox(config, args.outbox_command))
        elif args.command == "seed":
            asyncio.run(_seed(config))
        elif args.command == "db":
            asyncio.run(_upgrade(config))
        elif args.command == "admin":
            asyncio.run(_invite(config, args.role, args.org))
        elif args.command == "evenings":
            from handlers.evenings_import import run_import

            return asyncio.run(run_import(config, args.file, args.school))
        elif args.command == "ppe":
            from pathlib import Path

            from handlers.ppe_report import write_report

            for path in asyncio.run(write_report(config, Path(args.out))):
                print(path)
        elif args.command == "shop":
            asyncio.run(_poster(config, args.key, args.out))
        elif args.command == "nlu":
            return nlu_cli.run(args, config)
    except UsageError as error:
        print(f"citybot: {error}", file=sys.stderr)
        return 2
    except TransportStartError as error:
        print(f"citybot: cannot start: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
