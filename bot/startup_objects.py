"""The objects a started bot keeps for its whole life, kept out of the garbage collector's way.

After start-up a `citybot run` process holds about a quarter of a million objects that live
as long as it does: the NLU's vocabularies and models, the app, SQLAlchemy's and
python-telegram-bot's machinery. Every full collection of the cyclic garbage collector
walks all of them – about 0.2 s on a small VM, during which no chat is answered – and one
comes every one to two thousand turns. `gc.freeze` (Python's own tool for this) moves them
to a permanent generation that collections skip; they are still freed by reference counting
like any object, only cycles among them are never collected.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Collect the garbage start-up left, then exempt every living object from later
    collections; returns how many objects are exempt."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def release_startup_objects() -> None:
    """Give the frozen objects back to the collector (a runner stopping inside a process that
    goes on, as in tests: what it leaves may then be collected)."""
    gc.unfreeze()
