"""The hub: settings, the database, and the operations every interface shares.

The HTTP API, the CLI and the tests each hold one :class:`Hub`; none of them
creates its own database connections or repeats an operation defined here.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import anyio.to_thread
from sqlalchemy import Connection, func, select

from bayanihan.config import Settings
from bayanihan.errors import NotAuthenticated
from bayanihan.ingest.bundles import (
    AllOrNothing,
    IngestResult,
    Submitter,
    Verdicts,
    check_objects,
    nothing_stored,
    parse_bundle,
    store_checked,
)
from bayanihan.ingest.validation_pool import ValidationPool
from bayanihan.model.members import OrgKind
from bayanihan.model.stix import now_us
from bayanihan.model.tlp import TLP, marking_definition
from bayanihan.share.policy import PUBLIC, Reader, may_write
from bayanihan.store import audit, keys
from bayanihan.store import organisations as orgs
from bayanihan.store.database import Database
from bayanihan.store.objects import NewVersion, store_versions
from bayanihan.store.schema import organisations

log = logging.getLogger("bayanihan")

ADMIN_KEY_FILE = "bayanihan-admin.key"
TOUCH_EVERY_US = 60 * 1_000_000


@dataclass(frozen=True)
class Caller:
    """An authenticated request: what it may read, and as whom it writes."""

    reader: Reader
    submitter: Submitter | None
    role: keys.Role | None

    @property
    def is_admin(self) -> bool:
        return self.role is keys.Role.ADMIN

    @property
    def can_write(self) -> bool:
        role = self.role.value if self.role is not None else None
        return may_write(self.reader, role) and self.submitter is not None


ANONYMOUS = Caller(PUBLIC, None, None)


class Hub:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database())
        self._key_cache: dict[str, tuple[float, Caller]] = {}
        # one core: a worker would only compete with the server for it
        cores = os.cpu_count() or 1
        self.validation = ValidationPool(settings.validation_processes if cores > 1 else 0)
        self._touched: dict[str, int] = {}

    # -- start-up --------------------------------------------------------------------
    def open(self, *, statistics: bool = True) -> str | None:
        """Create/upgrade the schema; on an empty hub make the operator and its admin key.
        ``statistics=False`` skips the planner's ``ANALYZE`` (a command that only reads, such
        as ``bayanihan export``: it read every index, 2 s and 64 MB of cache at 1M values).

        Returns the path of a newly written admin key file, or None.
        """
        self.db.upgrade()
        if statistics:
            self.db.refresh_statistics()  # the planner's table sizes, as of this start
        return self.db.write_sync(self._first_start)

    def _first_start(self, conn: Connection) -> str | None:
        if conn.execute(select(func.count()).select_from(organisations)).scalar():
            return None
        console = audit.Actor.console()
        store_versions(conn, [NewVersion(marking_definition(level), author_org=None, tlp=TLP.CLEAR)
                              for level in TLP])
        orgs.add(conn, console, orgs.HUB_CODE, self.settings.hub_name, OrgKind.HUB)
        key, info = keys.create(conn, console, orgs.HUB_CODE, keys.Role.ADMIN, label="first start")
        path = Path(self.settings.data_dir).resolve() / ADMIN_KEY_FILE
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")
        log.warning("first start: admin key %s written to %s (readable only by you)",
                    info.key_id, path)
        return str(path)

    def close(self) -> None:
        self.validation.close()
        self.db.close()

    # -- who is calling --------------------------------------------------------------
    def caller_sync(self, conn: Connection, key: str) -> Caller:
        info = keys.lookup(conn, key)
        at = now_us()
        if info is None or not info.active(at):
            why = "unknown API key" if info is None else "API key revoked or expired"
            raise NotAuthenticated(why, ["Authorization"])
        org = orgs.require(conn, info.org)
        parent = orgs.get(conn, org.parent) if org.parent else None
        reader = Reader(org=org.code, kind=org.kind, parent=org.parent,
                        parent_kind=parent.kind if parent else None,
                        role=info.role.value, key_id=info.key_id)
        submitter = Submitter(org.code, org.identity_id, org.kind, info.key_id)
        return Caller(reader, submitter, info.role)

    async def authenticate(self, key: str | None) -> Caller:
        """The caller for an API key (cached briefly); ANONYMOUS for no key."""
        if not key:
            return ANONYMOUS
        now = time.monotonic()
        cached = self._key_cache.get(key)
        if cached and cached[0] > now:
            caller = cached[1]
        else:
            caller = await self.db.read(self.caller_sync, key)
            self._key_cache[key] = (now + self.settings.key_cache_seconds, caller)
        await self._note_use(caller)
        return caller

    async def _note_use(self, caller: Caller) -> None:
        key_id = caller.reader.key_id
        at = now_us()
        if key_id and at - self._touched.get(key_id, 0) > TOUCH_EVERY_US:
            self._touched[key_id] = at
            await self.db.write(keys.touch, key_id, at)

    def forget_keys(self) -> None:
        self._key_cache.clear()

    # -- writing objects -------------------------------------------------------------
    async def ingest_bundle(self, raw: bytes, submitter: Submitter,
                            audience: Sequence[str] | None, *, envelope: bool = False,
                            atomic: bool = False) -> IngestResult:
        """Parse, validate and store a bundle; one transaction for what is accepted.

        A large bundle is validated in a worker process (``validation_processes``) while
        this process parses it and stores others.
        """
        limit = self.settings.max_bundle_objects
        pending = (self.validation.submit(raw, limit, envelope)
                   if self.validation.wanted(raw) else None)
        try:
            objects = parse_bundle(raw, limit, envelope=envelope)
        except BaseException:
            if pending is not None:
                pending.cancel()
            raise
        known = await self.validation.result(pending) if pending is not None else None
        return await self.ingest_objects(objects, submitter, audience, atomic=atomic, known=known)

    async def ingest_objects(self, objects: Sequence[object], submitter: Submitter,
                             audience: Sequence[str] | None, *, atomic: bool = False,
                             known: Verdicts | None = None) -> IngestResult:
        """Validate and store ``objects``; with ``atomic``, all of them or none.

        ``known``: their validation verdicts, when a worker process has found them already.
        """
        if known is None:
            results, good = await anyio.to_thread.run_sync(check_objects, objects, submitter)
        else:  # only created_by_ref is left to settle: quicker than a thread hop
            results, good = check_objects(objects, submitter, known)
        if atomic and len(good) < len(results):
            return nothing_stored(IngestResult(results, []))
        try:
            return await self.db.write(partial(store_checked, atomic=atomic), results, good,
                                       submitter, audience)
        except AllOrNothing as rolled_back:
            return nothing_stored(rolled_back.result)
