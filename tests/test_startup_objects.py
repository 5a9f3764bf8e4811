"""Objects alive when the bot has started are exempt from the cyclic collector; later ones
are not, the start's garbage is collected first, and a full collection walks far fewer."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.startup_objects import freeze_startup_objects


class Node:
    """A container object the collector tracks."""

    def __init__(self) -> None:
        self.links: list[Node] = []


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """The test process's objects go back to the collector afterwards."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def tracked(obj: object) -> bool:
    """Whether a collection would walk obj (gc.get_objects lists what it walks)."""
    return any(candidate is obj for candidate in gc.get_objects())


def test_objects_alive_at_start_are_exempt_and_later_ones_are_not(unfrozen):
    long_lived = [Node() for _ in range(1000)]
    assert tracked(long_lived[0])
    frozen = freeze_startup_objects()
    assert frozen >= 1000 and gc.get_freeze_count() == frozen
    assert not tracked(long_lived[0]) and not tracked(long_lived)
    later = Node()
    assert tracked(later)
    gc.unfreeze()
    assert tracked(long_lived[0])


def test_garbage_of_the_start_is_collected_not_frozen(unfrozen):
    cycle = Node()
    cycle.links.append(cycle)  # unreachable once dropped: only the cyclic collector frees it
    gone = weakref.ref(cycle)
    del cycle
    assert gone() is not None  # reference counting alone cannot free a cycle
    freeze_startup_objects()
    assert gone() is None


def test_a_full_collection_walks_far_fewer_objects_after_freezing(unfrozen):
    ballast = [[Node() for _ in range(50)] for _ in range(2000)]  # 100,000 long-lived objects
    gc.collect()
    before = len(gc.get_objects())
    freeze_startup_objects()
    after = len(gc.get_objects())
    assert after < before - 100_000
    assert ballast[0][0].links == []  # still alive and usable
