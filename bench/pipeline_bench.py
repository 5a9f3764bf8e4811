"""Pipeline benchmark: citybot's Telegram turn next to python-telegram-bot's bare echo.

Both run in one process against the Bot API faked at PTB's request layer (no HTTP): PTB's
own `Application.process_update` with a plain echo handler, and citybot's
`TelegramTransport.process` with the wiring of `citybot run` (durable replies, real NLU,
demo data; the objects alive after the warm-up frozen, bot/startup_objects.py). Prints
updates/s, p50/p99 per update, the ratio to the echo (measured right before and after each
citybot row: the machine's speed drifts), messages per update, SQL statements and write
transactions per update – on SQLite and (when the binaries are installed) PostgreSQL,
sequentially and with updates in flight – and, with the shipped flood limits, how long a job
search takes until it is fully delivered.
A turn's time runs from the update until its replies are sent; their acknowledgement
follows (batched with later turns, bot/acks.py) and its SQL counts too. The sequential run's
updates are first contacts (each from a new chat); the run marked "known" sends the same
chats the mix again (their users, identities and states exist); "no thread hop" repeats
that with SQLite's statements on the event loop's thread: the floor of what removing the
trips to aiosqlite's thread could bring (measured only; the bot never does it).

On PostgreSQL it also runs citybot in two processes on one database, each turning its own
half of the updates (as two `citybot run` behind one webhook would), against one process
turning them all: the combined updates/s and its ratio to one process, with the cores each
run kept busy (the whole machine's from /proc/stat – citybot, PostgreSQL and the rest – and
citybot's processes' own) and the ceiling that puts on two processes on this machine.

Run: python bench/pipeline_bench.py [--updates 400] [--in-flight 50] [--no-postgres]
It asserts nothing: speed is measured, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import multiprocessing
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_databases import bench_databases
from sqlalchemy import event
from telegram import Bot, Update
from telegram.ext import Application, MessageHandler, filters
from telegram.request import BaseRequest, RequestData

from bot.app import App, create_app
from bot.config import Config, config_from_mapping
from bot.keys import load_secret
from bot.startup_objects import freeze_startup_objects
from bot.telegram import TelegramTransport
from nlu import EmbeddedNLU, default_data_dir
from storage.sqlite_connection import OneTripConnection

TOKEN = "123456:BENCHMARK"
BOT_ID = 123456
# a realistic mix: searches, greetings, help, small talk, alerts, out of scope
MIX = [
    "hallo",
    "ich suche arbeit in der pflege",
    "any part-time warehouse jobs?",
    "/help",
    "danke",
    "pflegejobs in der innenstadt",
    "sag mir bescheid wenn es neue pflegejobs gibt",
    "wie wird das wetter morgen",
    "jobs im lager in vollzeit",
    "tschüss",
]
JOB_SEARCH = "ich suche arbeit in der pflege"
# a WITH statement that writes (PostgreSQL's dedup INSERT inside the turn's SELECT)
DATA_MODIFYING = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


class FakeBotRequest(BaseRequest):
    """The Bot API at PTB's request layer: answers every call at once, counts messages."""

    def __init__(self) -> None:
        self.message_ids = itertools.count(1)
        self.sent: Counter[str] = Counter()
        self.last_sent_at: dict[str, float] = {}

    @property
    def read_timeout(self) -> float | None:
        """No timeout: nothing waits."""
        return None

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: Any
    ) -> tuple[int, bytes]:
        """Answer one Bot API call like Telegram would (ok, with a plausible result)."""
        api = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        result: Any = True
        if api == "getMe":
            result = {"id": BOT_ID, "is_bot": True, "first_name": "citybot",
                      "username": "citybot_bench_bot"}
        elif api.startswith("send"):
            chat = str(params.get("chat_id"))
            self.sent[chat] += 1
            self.last_sent_at[chat] = time.perf_counter()
            result = {"message_id": next(self.message_ids), "date": int(time.time()),
                      "chat": {"id": int(chat), "type": "private"},
                      "text": str(params.get("text", params.get("caption", "")))}
        elif api == "getUpdates":
            result = []
        return 200, json.dumps({"ok": True, "result": result}).encode()


def message_update(bot: Bot, update_id: int, chat: int, text: str) -> Update:
    """A private text message (a /command carries its entity)."""
    message: dict[str, Any] = {
        "message_id": update_id, "date": int(time.time()), "text": text,
        "from": {"id": chat, "is_bot": False, "first_name": f"Nutzer{chat}",
                 "language_code": "de"},
        "chat": {"id": chat, "type": "private"},
    }
    if text.startswith("/"):
        message["entities"] = [{"offset": 0, "length": len(text.split()[0]),
                                "type": "bot_command"}]
    return Update.de_json({"update_id": update_id, "message": message}, bot)


class SQLCounter:
    """Counts SQL statements and committed write transactions of an engine."""

    def __init__(self, engine: Any) -> None:
        self.statements = 0
        self.write_transactions = 0
        self._writing: set[int] = set()
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._statement)
        event.listen(sync, "commit", self._commit)
        event.listen(sync, "rollback", self._rollback)

    def _statement(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements += 1
        kind = statement.lstrip()[:6].upper()
        if kind in ("INSERT", "UPDATE", "DELETE") or (
                kind.startswith("WITH") and DATA_MODIFYING.search(statement)):
            self._writing.add(id(conn))

    def _commit(self, conn: Any) -> None:
        if id(conn) in self._writing:
            self.write_transactions += 1
            self._writing.discard(id(conn))

    def _rollback(self, conn: Any) -> None:
        self._writing.discard(id(conn))

    def snapshot(self) -> tuple[int, int]:
        """(statements, write transactions) so far."""
        return self.statements, self.write_transactions


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


async def echo_run(updates: int, in_flight: int) -> dict[str, float]:
    """PTB's own process_update of a plain echo handler."""
    request = FakeBotRequest()
    application = Application.builder().token(TOKEN).request(request).get_updates_request(
        FakeBotRequest()).build()

    async def echo(update: Update, _context: Any) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "")

    application.add_handler(MessageHandler(filters.TEXT, echo))
    await application.initialize()
    return await drive(application.bot, application.process_update, updates, in_flight,
                       request, chats=updates)


async def drive(bot: Bot, process: Any, updates: int, in_flight: int,
                request: FakeBotRequest, chats: int, first_id: int = 1,
                first_chat: int = 10_000) -> dict[str, float]:
    """Feed updates (distinct chats round-robin) sequentially or in flight; time each."""
    batch = [message_update(bot, first_id + n, first_chat + n % chats, MIX[n % len(MIX)])
             for n in range(updates)]
    times: list[float] = []
    gate = asyncio.Semaphore(in_flight)

    async def one(update: Update) -> None:
        async with gate:
            started = time.perf_counter()
            delivery = await process(update)  # citybot: committed; replies go out after
            if isinstance(delivery, asyncio.Future):
                await delivery  # sent (its acknowledgement rides along with a later turn)
            times.append(time.perf_counter() - started)

    sent_before = sum(request.sent.values())
    wall_started = time.time()  # comparable across processes
    busy_before, cpu_before = machine_busy_seconds(), time.process_time()
    started = time.perf_counter()
    if in_flight <= 1:
        for update in batch:
            await one(update)
    else:
        await asyncio.gather(*(one(u) for u in batch))
    elapsed = time.perf_counter() - started
    cpu, busy = time.process_time() - cpu_before, machine_busy_seconds() - busy_before
    p50, p99 = percentiles(times)
    return {"per_second": updates / elapsed, "p50_ms": p50, "p99_ms": p99,
            "max_ms": max(times) * 1e3,
            "messages_per_update": (sum(request.sent.values()) - sent_before) / updates,
            "wall_started": wall_started, "wall_ended": wall_started + elapsed,
            "process_cpu": cpu, "machine_busy": busy, "elapsed": elapsed}


def machine_busy_seconds() -> float:
    """CPU seconds all of the machine's cores have been busy since boot (/proc/stat: all but
    idle, I/O wait and what the hypervisor took); 0.0 where there is no /proc/stat."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:9]]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, _steal = fields
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def bench_config(url: str, folder: Path, *, flood: bool) -> Config:
    """citybot on the given database with Telegram; flood limits shipped or lifted."""
    limits = {} if flood else {"overall_per_second": 100_000, "per_chat_per_second": 100_000,
                               "per_chat_burst": 100_000, "per_group_per_minute": 100_000}
    return config_from_mapping(
        {"storage": {"url": url}, "nlu": {"cache_dir": None},
         "security": {"messages_per_minute": 0},
         "telegram": {"token": TOKEN, "rate_limits": limits}},
        folder,
    )


async def citybot_transport(app: App, config: Config) -> tuple[TelegramTransport,
                                                                 FakeBotRequest]:
    """A Telegram transport wired like `citybot run`, its bot on the fake request layer."""
    assert config.telegram is not None
    transport = TelegramTransport(
        config.telegram, config.city.default_language, secret=load_secret(config)
    )
    request = FakeBotRequest()
    transport.bot = Bot(TOKEN, request=request, get_updates_request=FakeBotRequest())
    await transport.bot.initialize()
    transport.bot_id, transport.username = BOT_ID, "citybot_bench_bot"
    transport._dispatch = app.dispatcher.handle  # what start() sets, without polling
    transport.ready.set()
    app.dispatcher.durable = {transport.name}  # replies journaled as in `citybot run`
    return transport, request


async def citybot_run(url: str, nlu: EmbeddedNLU, folder: Path, updates: int,
                      in_flight: int, first_id: int, *, first_chat: int = 10_000,
                      warm_up: tuple[int, int] = (900_000, 10_000),
                      ready: Callable[[], Awaitable[object]] | None = None,
                      ) -> dict[str, float]:
    """citybot's pipeline on one database: throughput, latency, SQL per update.

    warm_up: the first update id and chat of the 40 warm-up updates; ready: awaited between
    warm-up and the measured updates (other processes starting at the same moment).
    """
    config = bench_config(url, folder, flood=False)
    app = await create_app(config, nlu=nlu)
    try:
        transport, request = await citybot_transport(app, config)
        await drive(transport.bot, transport.process, 40, 1, request, chats=40,
                    first_id=warm_up[0], first_chat=warm_up[1])  # users exist, caches filled
        freeze_startup_objects()  # as `citybot run` does once started (bot/startup_objects.py)
        if ready is not None:
            await ready()
        counter = SQLCounter(app.engine)
        before = counter.snapshot()
        result = await drive(transport.bot, transport.process, updates, in_flight, request,
                             chats=updates, first_id=first_id, first_chat=first_chat)
        await transport.stop()  # waits for the last acknowledgements: they count too
        after = counter.snapshot()
        result["sql_per_update"] = (after[0] - before[0]) / updates
        result["write_tx_per_update"] = (after[1] - before[1]) / updates
        return result
    finally:
        gc.unfreeze()  # this app's objects may go once it is closed
        await app.close()


async def job_search_delivery(url: str, nlu: EmbeddedNLU, folder: Path) -> float:
    """Seconds from a job search update until its last message left, shipped flood limits."""
    config = bench_config(url, folder, flood=True)
    app = await create_app(config, nlu=nlu)
    try:
        transport, request = await citybot_transport(app, config)
        chat = 555_001
        started = time.perf_counter()
        delivery = await transport.process(message_update(transport.bot, 1, chat, JOB_SEARCH))
        if isinstance(delivery, asyncio.Future):
            await delivery
        last = request.last_sent_at.get(str(chat), started)
        await transport.stop()
        return last - started
    finally:
        await app.close()


async def process_share(url: str, cache: str, folder: Path, updates: int, in_flight: int,
                        share: int, barrier: Any) -> dict[str, float]:
    """One process's share of a multi-process run: warm up, wait for the others, drive.

    share: a number of its own across all runs on the database (its update ids and chats).
    """
    nlu = bench_nlu(Path(cache))
    base = 1_000_000 * (share + 1)  # update ids and chats of its own
    return await citybot_run(url, nlu, folder, updates, in_flight, base, first_chat=base,
                             warm_up=(base + 900_000, base + 900_000),
                             ready=lambda: asyncio.to_thread(barrier.wait))


def _share_main(url: str, cache: str, folder: str, updates: int, in_flight: int, share: int,
                barrier: Any, results: Any) -> None:
    """Entry point of a benchmark process (multiprocessing, spawn)."""
    results.put(asyncio.run(process_share(url, cache, Path(folder), updates, in_flight,
                                          share, barrier)))


def processes_run(url: str, cache: str, folder: Path, updates: int, in_flight: int,
                  processes: int, first_share: int) -> dict[str, float]:
    """citybot in several processes on one database, each turning updates / processes:
    combined updates/s from the first start to the last end, and the worst p50/p99.
    Shares are numbered from first_share (fresh update ids and chats per run)."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    workers = [context.Process(target=_share_main, args=(
        url, cache, str(folder), updates // processes, in_flight, first_share + share,
        barrier, results)) for share in range(processes)]
    for worker in workers:
        worker.start()
    shares = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    elapsed = max(r["wall_ended"] for r in shares) - min(r["wall_started"] for r in shares)
    total = updates // processes * processes
    return {"per_second": total / elapsed, "p50_ms": max(r["p50_ms"] for r in shares),
            "p99_ms": max(r["p99_ms"] for r in shares),
            "messages_per_update": sum(r["messages_per_update"] for r in shares) / processes,
            "citybot_cores": sum(r["process_cpu"] for r in shares) / elapsed,
            "machine_cores": statistics.mean(r["machine_busy"] / r["elapsed"] for r in shares)}


def cores(r: dict[str, float]) -> str:
    """How many cores a multi-process run kept busy: the machine's (citybot, PostgreSQL and
    the rest) and citybot's processes'."""
    return (f"  {r['machine_cores']:.2f} of {os.cpu_count()} cores busy "
            f"(citybot {r['citybot_cores']:.2f})")


@contextlib.contextmanager
def no_thread_hop() -> Iterator[None]:
    """The floor of a SQLite turn: its statements run on the event loop's own thread, no
    trip to aiosqlite's (what thread hops cost; not allowed in the bot, measured only)."""
    original = OneTripConnection._execute

    async def inline(_self: OneTripConnection, function: Callable[..., Any], *args: Any,
                     **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    OneTripConnection._execute = inline  # type: ignore[method-assign]
    try:
        yield
    finally:
        OneTripConnection._execute = original  # type: ignore[method-assign]


async def beside_echo(measure: Coroutine[Any, Any, dict[str, float]], updates: int,
                      in_flight: int) -> tuple[dict[str, float], dict[str, float]]:
    """A citybot measurement and PTB's echo right before and after it (their mean updates/s).

    The machine's speed drifts within a run (a shared VM: the echo alone varies up to 2x over
    a minute), so each ratio is taken against the echo measured next to it.
    """
    before = await echo_run(updates, in_flight)
    result = await measure
    after = await echo_run(updates, in_flight)
    return result, {"per_second": (before["per_second"] + after["per_second"]) / 2}


def line(name: str, r: dict[str, float], echo: dict[str, float] | None = None) -> str:
    """One result row."""
    text = (f"{name:<34} {r['per_second']:8.0f} upd/s  p50 {r['p50_ms']:6.2f} ms  "
            f"p99 {r['p99_ms']:7.2f} ms  {r['messages_per_update']:.2f} msg/upd")
    if "sql_per_update" in r:
        text += f"  {r['sql_per_update']:.1f} SQL/upd  {r['write_tx_per_update']:.2f} write tx/upd"
    if echo:
        text += f"  ratio to echo {echo['per_second'] / r['per_second']:.1f}x"
    return text


def nlu_cache(folder: Path) -> Path:
    """Where the benchmark's NLU is trained: $CITYBOT_BENCH_NLU_CACHE if set (kept), else the
    folder."""
    return Path(os.environ.get("CITYBOT_BENCH_NLU_CACHE") or folder / "nlu-cache")


def bench_nlu(cache: Path) -> EmbeddedNLU:
    """The embedded NLU as the benchmarks run it, trained into (or loaded from) the cache."""
    return EmbeddedNLU.from_data(default_data_dir(), threshold=0.45, cache_dir=cache)


async def main() -> None:
    """Run every measurement and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=400)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="citybot-pipeline-"))
    cache = nlu_cache(folder)
    nlu = bench_nlu(cache)
    echo_seq = await echo_run(args.updates, 1)
    echo_par = await echo_run(args.updates, args.in_flight)
    print(line("PTB echo, sequential", echo_seq))
    print(line(f"PTB echo, {args.in_flight} in flight", echo_par))
    with bench_databases(folder, postgres=not args.no_postgres) as databases:
        for name, database in databases:
            url = database("bench")
            seq, echo = await beside_echo(
                citybot_run(url, nlu, folder, args.updates, 1, first_id=1), args.updates, 1)
            print(line(f"citybot {name}, sequential", seq, echo))
            known, echo = await beside_echo(
                citybot_run(url, nlu, folder, args.updates, 1, first_id=50_000), args.updates, 1)
            print(line(f"citybot {name}, sequential, known", known, echo))
            if name == "SQLite":
                with no_thread_hop():
                    floor, echo = await beside_echo(
                        citybot_run(url, nlu, folder, args.updates, 1, first_id=75_000),
                        args.updates, 1)
                print(line("  the same, no thread hop (floor)", floor, echo))
            par, echo = await beside_echo(
                citybot_run(url, nlu, folder, args.updates, args.in_flight, first_id=100_000),
                args.updates, args.in_flight)
            print(line(f"citybot {name}, {args.in_flight} in flight", par, echo))
            took = await job_search_delivery(url, nlu, folder)
            print(f"{'job search fully delivered (' + name + ')':<34} {took * 1000:8.0f} ms "
                  "with the shipped flood limits")
            if name == "PostgreSQL":
                one = await asyncio.to_thread(processes_run, url, str(cache), folder,
                                              args.updates, args.in_flight, 1, 0)
                two = await asyncio.to_thread(processes_run, url, str(cache), folder,
                                              args.updates, args.in_flight, 2, 1)
                print(line(f"citybot {name}, 1 process", one) + cores(one))
                print(line(f"citybot {name}, 2 processes", two) + cores(two) +
                      f"  {two['per_second'] / one['per_second']:.2f}x one process")
                print(f"{'  ceiling on this machine':<34} "
                      f"{min(2.0, (os.cpu_count() or 1) / one['machine_cores']):8.2f}x one "
                      "process (its cores / the cores one process keeps busy, at most 2)")


if __name__ == "__main__":
    asyncio.run(main())
