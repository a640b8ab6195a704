"""Fan-out with a real database: back-pressure, pruning, and the retention gap."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from sqlalchemy import func, select

from bayanihan.hub import Hub
from bayanihan.model.members import OrgKind
from bayanihan.share.notify import LocalNotifier
from bayanihan.share.policy import Reader
from bayanihan.share.stream import Event, Filters, Notice, StreamHub, Subscription
from bayanihan.store.events import append_events
from bayanihan.store.schema import events
from tests.conftest import RunningHub
from tests.realtime.sse import Listener

TH = Reader(org="TH", kind=OrgKind.MEMBER)


def green(n: int) -> dict[str, object]:
    return {"kind": "alert", "tlp": "green", "payload": {"n": n}}


def test_a_slow_subscriber_is_lagged_and_catches_up_without_slowing_others(hub: Hub) -> None:
    async def scenario() -> tuple[list[int], list[int], list[Event | Notice], float]:
        stream = StreamHub(hub.db.read, buffer=5, poll_seconds=0.05)
        notifier = LocalNotifier(hub.db)
        await stream.start()
        notifier.start(stream.wake)
        slow = Subscription(stream, TH, Filters(), after=None).items()
        fast = Subscription(stream, TH, Filters(), after=None).items()
        fast_got: list[int] = []

        async def consume_fast() -> None:
            async for item in fast:
                assert isinstance(item, Event)
                fast_got.append(item.payload["n"])
                if len(fast_got) == 40:
                    return

        fast_task = asyncio.create_task(consume_fast())
        slow_first = asyncio.create_task(anext(slow))  # attached, then never reads on
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        for n in range(40):
            await hub.db.write(append_events, [green(n)])
        await asyncio.wait_for(fast_task, 10)
        fast_seconds = time.perf_counter() - started
        first = await slow_first
        assert first is not None
        slow_items: list[Event | Notice] = [first]
        while sum(isinstance(i, Event) for i in slow_items) < 40:
            item = await asyncio.wait_for(anext(slow), 10)
            assert item is not None
            slow_items.append(item)
        await slow.aclose()
        notifier.stop()
        await stream.stop()
        positions = [i.position for i in slow_items if isinstance(i, Event)]
        return fast_got, positions, slow_items, fast_seconds

    fast_got, positions, slow_items, fast_seconds = asyncio.run(scenario())
    assert fast_got == list(range(40))
    assert fast_seconds < 5
    assert [i.payload["n"] for i in slow_items if isinstance(i, Event)] == list(range(40))
    assert positions == sorted(set(positions))  # no duplicate, in order
    assert any(isinstance(i, Notice) and i.kind == "lagged" for i in slow_items)


def test_pruned_events_are_announced_as_a_gap(live_hub: Callable[..., RunningHub]) -> None:
    hub = live_hub(event_retention_days=0, event_prune_every_seconds=0.1)
    hub.hub.db.write_sync(append_events, [green(1), green(2)])
    count = select(func.count()).select_from(events)
    deadline = time.monotonic() + 10
    while hub.hub.db.read_sync(lambda conn: conn.execute(count).scalar()):
        assert time.monotonic() < deadline, "the pruning job did not run"
        time.sleep(0.05)
    listener = Listener(hub.url, hub.key("TH", "reader"), params={"after": 0, "follow": "false"})
    listener.wait_closed()
    assert [f.event for f in listener.frames] == ["gap"]
    assert listener.frames[0].data["after"] == 0 and listener.frames[0].data["resume_after"] > 0


def test_a_malformed_event_is_withheld_and_does_not_stop_the_stream(
        live_hub: Callable[..., RunningHub]) -> None:
    hub = live_hub()
    listener = Listener(hub.url, hub.key("TH", "reader"))
    hub.hub.db.write_sync(append_events, [{"kind": "alert", "tlp": "purple", "payload": {"n": 1}},
                                          green(2)])
    assert listener.wait_for(lambda fs: any(f.data["payload"].get("n") == 2 for f in fs))
    assert [f.data["payload"]["n"] for f in listener.events()] == [2]
