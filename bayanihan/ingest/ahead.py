"""Validation ahead of storing, in a worker process, for whole files (``bayanihan ingest``).

Storing a chunk and validating the next are both Python work, so in one process they take
turns on one core. :class:`ValidationAhead` hands slices of :data:`SLICE` objects to one
worker process (serialised with orjson: a few milliseconds per thousand objects, where
pickling the parsed objects cost as much as validating them) while the caller stores what
is validated. It never waits for a worker that is not there yet: the caller validates a
slice itself while the worker is starting, and takes back any slice the worker has not
begun (``Future.cancel``), so a slow or busy worker costs nothing but its own core. A slice
the worker fails on, or a worker that dies, is validated by the caller; verdicts are those
of the same :func:`bayanihan.ingest.verdicts.verdicts` either way, so where an object was
validated never changes its result.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

import orjson

from bayanihan.ingest.verdicts import Verdicts, slice_verdicts, warm

__all__ = ["SLICE", "ValidationAhead"]

log = logging.getLogger("bayanihan.ingest")

#: Objects per slice handed to the worker (about 25 ms of validation).
SLICE = 1000
#: Slices handed to the worker ahead of the one the caller needs.
AHEAD = 12


#: Idle cores the machine must have for a worker to be started, and how long to look.
MIN_IDLE = 0.8
IDLE_WINDOW = 0.25


def _ready() -> bool:
    return True


def _cpu_times() -> tuple[int, int] | None:
    """(idle, total) jiffies of all cores from /proc/stat; None where there is none."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return fields[3] + fields[4], sum(fields[:8])  # idle + iowait; user .. steal


def idle_cores(window: float) -> float:
    """How many cores were idle over the next ``window`` seconds (Linux; elsewhere: all)."""
    cores = os.cpu_count() or 1
    before = _cpu_times()
    time.sleep(window)
    after = _cpu_times()
    if before is None or after is None or after[1] <= before[1]:
        return float(cores)
    return cores * (after[0] - before[0]) / (after[1] - before[1])


class ValidationAhead:
    """One worker process validating the slices of ``objects`` ahead of the caller.

    :meth:`start` spawns the worker (it is ready a few tenths of a second later: start it
    before reading a large file), :meth:`load` names the objects (or the constructor does),
    and :meth:`shares` gives the verdicts of ``objects[start:stop]`` piece by piece.
    """

    def __init__(self, objects: Sequence[Any] = ()) -> None:
        self.objects = objects
        self.slices = range(0, len(objects), SLICE)
        self.offloaded = 0  # objects the worker validated
        self._executor: ProcessPoolExecutor | None = None
        self._starter: threading.Thread | None = None
        self._closing = False
        self._ready: Future[bool] | None = None
        self._pending: dict[int, Future[Verdicts]] = {}  # slice start -> worker's verdicts
        self._next = 0  # index into self.slices of the next slice not yet handed out
        self._broken = False

    def load(self, objects: Sequence[Any]) -> None:
        """Validate ``objects`` from now on (a worker may be started before they are read)."""
        for pending in self._pending.values():
            pending.cancel()
        self._pending.clear()
        self.objects, self.slices, self._next = objects, range(0, len(objects), SLICE), 0

    def __enter__(self) -> ValidationAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, min_idle: float = MIN_IDLE) -> None:
        """Start the worker in the background if the machine has ``min_idle`` cores idle
        (measured over :data:`IDLE_WINDOW` seconds, meanwhile the caller goes on): on a
        machine whose cores are all busy a second process only adds its own start-up and
        parsing to the load (measured: slower, not faster)."""
        if self._starter is not None or self._broken:
            return
        self._starter = threading.Thread(target=self._spawn, args=(min_idle,),
                                         name="bayanihan-validation-ahead", daemon=True)
        self._starter.start()

    def _spawn(self, min_idle: float) -> None:
        if min_idle > 0 and idle_cores(IDLE_WINDOW) < min_idle:
            return
        if self._closing:
            return  # the ingest is over already: no worker to start and stop for nothing
        try:  # spawn, not fork: the caller has threads (the database writer)
            executor = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"), initializer=warm,
                initargs=(os.getpid(),))
            self._ready = executor.submit(_ready)
            self._executor = executor
        except Exception:
            log.warning("no validation worker; validating in this process", exc_info=True)
            self._broken = True

    def ready(self, timeout: float | None = None) -> bool:
        """Wait until the worker is up (or ``timeout`` seconds); False if there is none."""
        if self._starter is not None:
            self._starter.join(timeout)
        if self._ready is None or self._broken:
            return False
        try:
            return bool(self._ready.result(timeout))
        except Exception:
            return False

    def worker_pids(self) -> list[int]:
        """Process ids of the running worker (for operators' tools and tests)."""
        return list(getattr(self._executor, "_processes", None) or {})

    def close(self) -> None:
        self._closing = True
        if self._starter is not None:
            self._starter.join()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def shares(self, start: int, stop: int, *, take_back: bool = True,
               ) -> Iterator[tuple[int, int, Verdicts | None]]:
        """``(first, last, verdicts)`` for pieces of ``objects[start:stop]`` (``start`` on a
        slice boundary), last piece first: the worker's verdicts (keys from ``first``), or
        None for a piece the caller validates itself.

        The worker takes slices from the front, in order; the caller takes them from the back,
        every one the worker has not begun, and waits only for those the worker has (by then
        it has validated the others itself: iterate lazily). ``take_back=False``: wait for
        every slice handed out (tests)."""
        self._hand_out(start)
        if not self._pending:
            yield start, stop, None
            return
        for first in reversed(range(start, stop, SLICE)):
            yield first, min(first + SLICE, stop), self._from_worker(first, take_back)

    def _hand_out(self, start: int) -> None:
        """Give the worker up to AHEAD slices from ``start`` on, once it is up."""
        if self._broken or self._ready is None or not self._ready.done():
            return
        if self._ready.exception() is not None:
            self._fail("the validation worker did not start")
            return
        while self._next < len(self.slices) and self.slices[self._next] < start:
            self._next += 1  # the caller is past these: it validated them itself
        while (self._executor is not None and self._next < len(self.slices)
               and len(self._pending) < AHEAD):
            first = self.slices[self._next]
            self._next += 1
            try:
                raw = orjson.dumps(list(self.objects[first:first + SLICE]))
                self._pending[first] = self._executor.submit(slice_verdicts, raw)
            except orjson.JSONEncodeError:
                continue  # not plain JSON: the caller validates this slice
            except Exception:
                self._fail("the validation worker is gone")
                return

    def _from_worker(self, first: int, take_back: bool = True) -> Verdicts | None:
        """The worker's verdicts of the slice at ``first``; None if the caller must validate it
        (never handed out, taken back before the worker began it, or the worker failed)."""
        pending = self._pending.pop(first, None)
        if pending is None or (take_back and pending.cancel()):
            return None
        try:
            found = pending.result()
        except Exception:
            self._fail("a validation worker failed")
            return None
        self.offloaded += min(first + SLICE, len(self.objects)) - first
        return found

    def _fail(self, what: str) -> None:
        log.warning("%s; validating in this process", what, exc_info=True)
        self._broken = True
        for pending in self._pending.values():
            pending.cancel()
        self._pending.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
