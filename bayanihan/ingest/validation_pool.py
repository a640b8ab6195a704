"""Validating large bundles in worker processes, beside the server's own threads.

One Python process validates and stores on one core at a time (the interpreter lock).
With ``validation_processes`` > 0 a large bundle's raw bytes go to a worker process, which
parses and validates it there and sends back only the verdicts of the objects with
problems; meanwhile the server parses the same bytes itself (cheap) and, while the worker
works, stores the bundle before it. Only bytes and a short verdict list cross between the
processes: pickling a thousand parsed objects would cost as much as validating them.

The verdicts are those of :func:`bayanihan.model.validation.validate`, the same function
the server runs for small bundles, so where a bundle is validated never changes its result.
A worker that dies or fails is not fatal: the bundle is validated in the server instead.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from bayanihan.ingest.bundles import parse_bundle
from bayanihan.ingest.verdicts import Verdicts, verdicts, warm
from bayanihan.model.validation import load_all

log = logging.getLogger("bayanihan.ingest")

#: Bundles at least this large (bytes) are validated in a worker; smaller ones are quicker
#: to validate than to hand over.
MIN_BYTES = 64 * 1024
#: Worker failures in a row after which the server stops using workers (and says so).
GIVE_UP_AFTER = 3


def _warm(parent: int | None = None) -> None:
    """Worker start-up: die with the server; compile the schemas and import the validator
    before the first bundle."""
    warm(parent)
    load_all()


def _bundle_verdicts(raw: bytes, max_objects: int, envelope: bool, part: int, parts: int,
                     ) -> Verdicts | None:
    """In a worker: the problems of every ``parts``-th object of ``raw`` from ``part``; None
    if it is not a bundle (the server then reports why, with its own parse)."""
    try:
        objects = parse_bundle(raw, max_objects, envelope=envelope)
    except Exception:
        return None
    return verdicts(objects, part, parts)


class ValidationPool:
    """Worker processes for the validation of large bundles, each taking a share of it.

    Used only once :meth:`allow` is called (the server does; command-line tools validate
    in their own process); started by :meth:`warm` (``bayanihan serve`` does) or on the first
    large bundle.
    """

    def __init__(self, processes: int, min_bytes: int = MIN_BYTES) -> None:
        self.processes = processes
        self.min_bytes = min_bytes
        self.allowed = False
        self.used = False  # a bundle has gone to a worker
        self._failures = 0  # in a row
        self._executor: ProcessPoolExecutor | None = None

    def allow(self) -> None:
        """A server is starting: workers may be used, and the validator (imported on first
        need since it costs a second of CPU) is loaded now, in the background, so that no
        request waits for it."""
        self.allowed = True
        threading.Thread(target=load_all, name="bayanihan-load-validator", daemon=True).start()

    def warm(self) -> None:
        """Load the validator here and start the workers now, so the first bundle does not
        wait for either (about 2 s)."""
        load_all()
        if self.allowed and self.processes > 0:
            for _ in range(self.processes):
                self._pool().submit(_warm)

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn, not fork: the server has threads (database writer, workers) by now
            self._executor = ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context("spawn"),
                initializer=_warm, initargs=(os.getpid(),))
        return self._executor

    def wanted(self, raw: bytes) -> bool:
        return (self.allowed and self.processes > 0 and len(raw) >= self.min_bytes
                and self._failures < GIVE_UP_AFTER)

    def worker_pids(self) -> list[int]:
        """Process ids of the running workers (for operators' tools and tests)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return list(processes)

    def close(self) -> None:
        self.allowed = False
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def submit(self, raw: bytes, max_objects: int, envelope: bool) -> asyncio.Future[Any] | None:
        """Start validating ``raw`` in a worker; None when no worker can take it."""
        pool = self._pool()
        try:  # each worker parses the whole bundle (cheap) and validates its share
            shares = [asyncio.wrap_future(pool.submit(
                _bundle_verdicts, raw, max_objects, envelope, part, self.processes))
                for part in range(self.processes)]
            self.used = True
            return asyncio.gather(*shares)
        except Exception:  # a broken pool: validate here, and start afresh next time
            self._failed("validation workers unavailable")
            return None

    async def result(self, pending: asyncio.Future[Any]) -> Verdicts | None:
        """The worker's verdicts; None (validate in the server) if the worker failed."""
        try:
            shares = await pending
        except Exception:
            self._failed("a validation worker failed")
            return None
        self._failures = 0
        if any(share is None for share in shares):
            return None
        return {index: problems for share in shares for index, problems in share.items()}

    def _failed(self, what: str) -> None:
        self._failures += 1
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        if self._failures >= GIVE_UP_AFTER:
            log.error("%s %d times in a row; validating every bundle in the server from now on",
                      what, self._failures, exc_info=True)
        else:
            log.warning("%s; validating this bundle in the server", what, exc_info=True)
