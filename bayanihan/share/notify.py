"""Waking the readers of the event log when new events are committed.

In one process a commit wakes the :class:`~bayanihan.share.stream.StreamHub` through
``Database.after_commit``. With PostgreSQL, processes also tell each other: right after
a commit that added events, a sender thread runs ``pg_notify`` on the channel
``bayanihan_events`` with nothing but the newest position; a listener thread (its own
psycopg 3 connection, ``LISTEN``) in every process wakes that process's reader. The
payload is only a hint: readers always read the log itself, and poll it slowly too, so
a lost notification delays an event by at most the poll interval and never loses it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bayanihan.store.database import Database

log = logging.getLogger("bayanihan.notify")

CHANNEL = "bayanihan_events"
Wake = Callable[[int | None], None]


class Notifier(Protocol):
    """Calls ``wake(position or None)`` whenever new events may be in the log."""

    def start(self, wake: Wake) -> None: ...

    def stop(self) -> None: ...


class LocalNotifier:
    """Wakes on commits of this process (SQLite, or PostgreSQL with one process)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._wake: Wake | None = None

    def _committed(self) -> None:
        if self._wake is not None:
            self._wake(None)

    def start(self, wake: Wake) -> None:
        self._wake = wake
        self.db.after_commit.append(self._committed)

    def stop(self) -> None:
        if self._committed in self.db.after_commit:
            self.db.after_commit.remove(self._committed)
        self._wake = None


class PostgresNotifier(LocalNotifier):
    """Local wake-ups plus LISTEN/NOTIFY between every process on the database."""

    def __init__(self, db: Database, retry_seconds: float = 1.0) -> None:
        super().__init__(db)
        self.conninfo = make_url(db.url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        self.retry_seconds = retry_seconds
        self._stop = threading.Event()
        self._pending = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sent = 0
        self._listening = threading.Event()

    def _committed(self) -> None:
        super()._committed()
        self._pending.set()

    def start(self, wake: Wake) -> None:
        super().start(wake)
        self._stop.clear()
        for target, name in ((self._send_loop, "pg-notify"), (self._listen_loop, "pg-listen")):
            thread = threading.Thread(target=target, name=f"bayanihan-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._listening.wait(10)

    def stop(self) -> None:
        super().stop()
        self._stop.set()
        self._pending.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def _send_loop(self) -> None:
        """After commits, NOTIFY the newest position when it moved (coalesced)."""
        while not self._stop.is_set():
            self._pending.wait()
            self._pending.clear()
            if self._stop.is_set():
                return
            try:
                with self.db.write_engine.begin() as conn:
                    row = conn.execute(text(
                        "SELECT pg_notify(:channel, m::text), m FROM "
                        "(SELECT max(position) AS m FROM events) s WHERE m > :sent"),
                        {"channel": CHANNEL, "sent": self._sent}).first()
                if row is not None:
                    self._sent = row.m
            except Exception:
                log.exception("NOTIFY failed; other processes catch up by polling")
                self._stop.wait(self.retry_seconds)

    def _listen_loop(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    self._deliver(None)  # anything missed while (re)connecting
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self._deliver(int(note.payload) if note.payload.isdigit() else None)
            except Exception:
                if self._stop.is_set():
                    return
                log.warning("LISTEN connection lost; reconnecting", exc_info=True)
                self._listening.set()
                self._stop.wait(self.retry_seconds)

    def _deliver(self, position: int | None) -> None:
        if self._wake is not None:
            self._wake(position)


def notifier_for(db: Database) -> Notifier:
    return LocalNotifier(db) if db.is_sqlite else PostgresNotifier(db)
