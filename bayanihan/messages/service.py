"""Message intake for one hub: check → prepare → store (one transaction) → publish.

``submit`` is what ``POST /api/v1/messages`` calls. The batch is checked whole before
anything is written; CPU work runs in a worker thread; everything that must survive a
crash is written in one transaction (:mod:`.intake`); automatic publication of drafts runs
after the commit and is retried on the next batch if the hub stopped in between.
Expired raw messages are purged in the intake transaction (at most once a minute) and by
a background task every hour.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import TYPE_CHECKING

import anyio.to_thread

from bayanihan.correlate.links import load_rules
from bayanihan.correlate.report_links import lure_index
from bayanihan.messages import drafts
from bayanihan.messages.batch import Message, check_batch, parse_body
from bayanihan.messages.intake import Intake, IntakeResult, purge
from bayanihan.messages.prepare import Prepared, prepare
from bayanihan.model.members import OrgKind
from bayanihan.model.stix import now_us

if TYPE_CHECKING:
    from bayanihan.hub import Caller, Hub

log = logging.getLogger("bayanihan.messages")
PURGE_EVERY_SECONDS = 3600.0
_SERVICES: weakref.WeakKeyDictionary[Hub, MessageService] = weakref.WeakKeyDictionary()


def member_of(caller: Caller) -> str:
    """Whose clusters a caller's messages join: a downstream organisation's parent member."""
    assert caller.submitter is not None
    r = caller.reader
    if r.kind is OrgKind.DOWNSTREAM and r.parent:
        return r.parent
    return caller.submitter.org


def _checked(raw: bytes) -> tuple[list[Message], list[Prepared]]:
    messages = check_batch(parse_body(raw))
    return messages, prepare(messages)


class MessageService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.intake = Intake(lure_index(), load_rules(hub.settings.linking_file or None),
                             hub.settings.message_retention_days)
        self._purger: asyncio.Task[None] | None = None

    async def submit(self, caller: Caller, raw: bytes) -> IntakeResult:
        assert caller.submitter is not None
        self._ensure_purger()
        messages, prepared = await anyio.to_thread.run_sync(_checked, raw)
        member = member_of(caller)
        result = await self.hub.db.write(self.intake.store, member, caller.submitter.org,
                                         messages, prepared)
        try:  # new drafts, and any a crash left queued
            await drafts.publish_queued(self.hub, member)
        except Exception:  # the draft stays queued and is retried with the next batch
            log.exception("publishing drafts of %s failed; they stay queued", member)
        return result

    def _ensure_purger(self) -> None:
        if self._purger is None or self._purger.done():
            self._purger = asyncio.create_task(self._purge_loop(), name="bayanihan-message-purge")

    async def _purge_loop(self) -> None:
        while True:
            await asyncio.sleep(PURGE_EVERY_SECONDS)
            try:
                gone = await self.purge()
                if gone:
                    log.info("purged %d raw messages past their retention", gone)
            except Exception:
                log.exception("purging raw messages failed")

    async def purge(self) -> int:
        """Delete raw messages older than ``message_retention_days`` now."""
        cutoff = now_us() - self.intake.retention_us
        return await self.hub.db.write(purge, cutoff)


def service(hub: Hub) -> MessageService:
    """The hub's message service (made on first use)."""
    found = _SERVICES.get(hub)
    if found is None:
        found = _SERVICES[hub] = MessageService(hub)
    return found
