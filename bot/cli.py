"""The citybot command line: chat, seed, db upgrade, admin invite, nlu."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence

from bot.config import Config, ConfigError, load_config

logger = logging.getLogger("citybot")


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

    nlu = sub.add_parser("nlu", parents=[common], help="natural-language understanding")
    nlu_sub = nlu.add_subparsers(dest="nlu_command", required=True)
    parse = nlu_sub.add_parser("parse", parents=[common], help="parse stdin lines to JSON")
    parse.add_argument("--lang", choices=["de", "en"])
    nlu_sub.add_parser("train", parents=[common], help="train and cache the model")
    return parser


def _setup_logging(config: Config, quiet: bool = False) -> None:
    level = logging.WARNING if quiet and config.logging.level != "DEBUG" else config.logging.level
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


async def _chat(config: Config, user: str | None, lang: str | None) -> None:
    from bot.app import create_app
    from bot.console import ConsoleTransport

    app = await create_app(config)
    try:
        files = config.resolve_path("data/console-files")
        transport = ConsoleTransport(user or config.console.user, files, language=lang)
        await transport.run(app.dispatcher.handle)
    finally:
        await app.close()


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
    from bot.app import prepare_database
    from storage.db import session_factory
    from storage.users import create_invite

    engine = await prepare_database(config, seed=False)
    try:
        async with session_factory(engine)() as db, db.begin():
            code = await create_invite(db, role, org)
    except ValueError as error:
        raise UsageError(str(error)) from None
    finally:
        await engine.dispose()
    print(code.code)


def _nlu_parse(config: Config, lang: str | None) -> None:
    from bot.app import build_nlu

    nlu = build_nlu(config)
    for line in sys.stdin:
        text = line.rstrip("\n")
        print(json.dumps(nlu.parse_sync(text, lang), ensure_ascii=False), flush=True)


def _nlu_train(config: Config) -> None:
    import time

    from bot.app import build_nlu

    started = time.perf_counter()
    nlu = build_nlu(config)
    took = time.perf_counter() - started
    source = "trained" if nlu.train_seconds else "loaded from cache"
    print(f"model {source} in {took:.2f} s")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `citybot` command."""
    args = _parser().parse_args(argv)
    try:
        config = load_config(getattr(args, "config", None))
    except ConfigError as error:
        print(f"citybot: config error: {error}", file=sys.stderr)
        return 2
    _setup_logging(config, quiet=args.command in ("chat", "nlu"))
    try:
        if args.command == "chat":
            asyncio.run(_chat(config, args.user, args.lang))
        elif args.command == "seed":
            asyncio.run(_seed(config))
        elif args.command == "db":
            asyncio.run(_upgrade(config))
        elif args.command == "admin":
            asyncio.run(_invite(config, args.role, args.org))
        elif args.command == "nlu" and args.nlu_command == "parse":
            _nlu_parse(config, args.lang)
        elif args.command == "nlu":
            _nlu_train(config)
    except UsageError as error:
        print(f"citybot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
