"""Hub-to-hub sync over TAXII 2.1: pull a remote collection in, push this hub's own objects out.

Works with any TAXII 2.1 server. Incremental and resumable: after every page the cursor
of that remote collection is saved (pull: the remote's ``X-TAXII-Date-Added-Last``, in the
same transaction as the page's objects and its refusals; push: the last local
``date_added`` sent), so a run that is interrupted continues where it stopped and loses
nothing. Idempotent: an object version already stored is a duplicate, not a second copy.
A pull asks for every version (``match[version]=all``); objects refused for a permanent
reason are kept in ``sync_refusals`` (``bayanihan sync status``, ``sync pull --retry``);
objects waiting for a marking-definition are held until it arrives (ingest/held.py).

The functions take the hub's :class:`Database` (not the hub: sync sits below it). Pull
stores through the ingest functions (validation, markings, versions, events, audit) as a
*trusted import*: objects keep their ``created_by_ref``; the author
organisation is the local organisation with that identity, or the configured source
organisation. Markings travel inside the objects, unchanged. TLP:RED objects are
rejected on pull (no recipients are named) and never pushed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import httpx
import orjson
from sqlalchemy import Connection, and_, delete, select, update

from bayanihan.ingest.bundles import IngestResult, ObjectResult, check_objects, store_checked
from bayanihan.model.stix import format_us, now_us, parse_us
from bayanihan.model.tlp import TLP
from bayanihan.share.policy import Reader, visible
from bayanihan.store import organisations as orgs
from bayanihan.store.database import Database
from bayanihan.store.schema import stix_objects
from bayanihan.store.tables_provenance import sync_refusals
from bayanihan.store.tables_taxii import get_cursor, set_cursor

TAXII_MEDIA = "application/taxii+json;version=2.1"
#: A resumed pull re-reads this much before its cursor: servers that give several objects
#: one ``date_added`` may have split them across pages (re-read copies are duplicates).
OVERLAP_US = 1000


class SyncError(Exception):
    """A remote answered something other than what TAXII 2.1 promises."""


@dataclass(frozen=True)
class Remote:
    """A remote TAXII 2.1 collection and how to authenticate to it."""

    collection_url: str  # …/{api-root}/collections/{id}/
    key: str | None = None  # sent as Authorization: Bearer
    user: str | None = None  # HTTP Basic
    password: str | None = None
    timeout: float = 60.0

    @property
    def url(self) -> str:
        return self.collection_url if self.collection_url.endswith("/") else self.collection_url + "/"

    def client(self) -> httpx.Client:
        headers = {"Accept": TAXII_MEDIA}
        auth: httpx.Auth | None = None
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        elif self.user is not None and self.password is not None:
            auth = httpx.BasicAuth(self.user, self.password)
        return httpx.Client(headers=headers, auth=auth, timeout=self.timeout)


@dataclass
class SyncReport:
    direction: str
    remote: str
    pages: int = 0
    objects: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    cursor: str | None = None
    held: int = 0  # waiting for a marking-definition (stored when it arrives)
    reasons: list[str] = field(default_factory=list)

    def add(self, stored: int, duplicates: int, rejected: list[str]) -> None:
        self.stored += stored
        self.duplicates += duplicates
        self.rejected += len(rejected)
        self.reasons.extend(rejected[: max(0, 20 - len(self.reasons))])


Progress = Callable[[SyncReport], None]


def _checked(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 400:
        raise SyncError(f"{what}: HTTP {response.status_code} from {response.request.url}: "
                        f"{response.text[:300]}")
    kind = response.headers.get("content-type", "")
    if not kind.startswith("application/taxii+json"):
        raise SyncError(f"{what}: {response.request.url} answered {kind!r}, not TAXII 2.1 JSON")
    try:
        return response.json()
    except ValueError:
        raise SyncError(f"{what}: {response.request.url} answered invalid JSON") from None


# -- pull -----------------------------------------------------------------------------------
def _pulled_author(idents: dict[str, str], source_org: str) -> Callable[[dict[str, Any]], str]:
    def author_of(obj: dict[str, Any]) -> str:
        return idents.get(obj.get("created_by_ref", "")) or idents.get(obj["id"]) or source_org
    return author_of


def _reason(result: ObjectResult) -> str:
    return "; ".join(f"{e.field}: {e.reason}" for e in result.errors) or "rejected"


def _record_refusals(conn: Connection, remote_url: str,
                     refused: list[tuple[dict[str, Any], ObjectResult]]) -> None:
    """Keep what was refused, once: a resumed pull re-reads a little before its cursor."""
    t = sync_refusals.c
    ids = sorted({r.id for _, r in refused if r.id})
    known = {(row.object_id, row.body) for row in conn.execute(
        select(t.object_id, t.body).where(t.remote == remote_url, t.object_id.in_(ids)))}
    at = now_us()
    rows = []
    for obj, r in refused:
        body = orjson.dumps(obj).decode()
        if (r.id, body) not in known:
            known.add((r.id, body))
            rows.append({"remote": remote_url, "object_id": r.id, "refused_us": at,
                         "reason": _reason(r), "body": body})
    if rows:
        conn.execute(sync_refusals.insert(), rows)


def store_page(conn: Connection, remote_url: str, objects: list[Any], source_org: str,
               cursor: str | None) -> IngestResult:
    """Store one pulled page, record what was refused and why, and move the cursor past
    it -- all in the caller's one write transaction, so a crash loses nothing: either the
    page was fully dealt with and the cursor moved, or the page is fetched again."""
    results, good = check_objects(objects, None)
    result = store_checked(conn, results, good, None, None,
                           author_of=_pulled_author(orgs.by_identity(conn), source_org),
                           action="objects.sync.pull")
    refused = [(objects[r.index], r) for r in result.results if r.status == "rejected"]
    if refused:
        _record_refusals(conn, remote_url, refused)
    if cursor:
        set_cursor(conn, remote_url, "pull", cursor, len(objects))
    return result


def _count(report: SyncReport, result: IngestResult) -> None:
    report.add(len(result.stored), sum(r.status == "duplicate" for r in result.results),
               [f"{r.id}: " + "; ".join(e.reason for e in r.errors)
                for r in result.results if r.status == "rejected"])
    report.held += result.held


def pull(db: Database, remote: Remote, source_org: str, *, page_size: int = 1000,
         progress: Progress | None = None, max_pages: int | None = None) -> SyncReport:
    """Pull new objects of ``remote`` (every version) into the hub's database ``db``.

    Each page is stored and the cursor saved in one transaction; objects refused for a
    permanent reason are recorded (:func:`refusals`) and do not stop the cursor; objects
    that wait for a marking-definition are held and stored when it arrives.
    """
    db.read_sync(orgs.require, source_org)
    report = SyncReport("pull", remote.url)
    saved = db.read_sync(get_cursor, remote.url, "pull")
    params: dict[str, Any] = {"limit": page_size, "match[version]": "all"}
    if saved:
        params["added_after"] = format_us(parse_us(saved[0]) - OVERLAP_US)
    token: str | None = None
    last_seen: str | None = None
    with remote.client() as client:
        while max_pages is None or report.pages < max_pages:
            query = {**params, **({"next": token} if token else {})}
            response = client.get(remote.url + "objects/", params=query)
            envelope = _checked(response, "pull")
            objects = envelope.get("objects") or []
            last = response.headers.get("X-TAXII-Date-Added-Last")
            if objects or last:
                result = db.write_sync(store_page, remote.url, objects, source_org, last)
                _count(report, result)
            report.pages += 1
            report.objects += len(objects)
            if last:
                report.cursor = last
            if progress:
                progress(report)
            if not envelope.get("more") or not objects:
                break
            token = envelope.get("next")
            if not token:  # page by added_after alone
                if not last or last == last_seen:
                    break
                params["added_after"] = last
            last_seen = last
    return report


def refusals(conn: Connection, remote_url: str | None = None) -> list[Any]:
    """Objects a pull refused (pk, remote, object_id, reason, refused_us), oldest first."""
    t = sync_refusals.c
    query = select(t.pk, t.remote, t.object_id, t.reason, t.refused_us).order_by(t.pk)
    if remote_url is not None:
        query = query.where(t.remote == remote_url)
    return list(conn.execute(query))


def _retry(conn: Connection, remote_url: str | None, source_org: str) -> IngestResult:
    t = sync_refusals.c
    query = select(t.pk, t.remote, t.body).order_by(t.pk)
    if remote_url is not None:
        query = query.where(t.remote == remote_url)
    rows = list(conn.execute(query))
    objects = [orjson.loads(r.body) for r in rows]
    results, good = check_objects(objects, None)
    result = store_checked(conn, results, good, None, None,
                           author_of=_pulled_author(orgs.by_identity(conn), source_org),
                           action="objects.sync.retry")
    at = now_us()
    for r in result.results:
        if r.status == "rejected":
            conn.execute(update(sync_refusals).where(t.pk == rows[r.index].pk)
                         .values(reason=_reason(r), refused_us=at))
    done = [rows[r.index].pk for r in result.results if r.status != "rejected"]
    if done:
        conn.execute(delete(sync_refusals).where(t.pk.in_(done)))
    return result


def retry(db: Database, source_org: str, remote_url: str | None = None) -> SyncReport:
    """Try the refused objects again (of one remote, or all); those stored now (or held,
    or found already there) leave the list, the others keep it with their new reason."""
    db.read_sync(orgs.require, source_org)
    report = SyncReport("retry", remote_url or "all remotes")
    result = db.write_sync(_retry, remote_url, source_org)
    report.objects = len(result.results)
    _count(report, result)
    return report


# -- push -----------------------------------------------------------------------------------
def own_versions(conn: Connection, reader: Reader, identity_id: str, after: int,
                 limit: int) -> list[Any]:
    """This organisation's object versions added after ``after``, oldest first.

    Never TLP:RED, and never the organisation's own identity (each hub makes its own).
    """
    t = stix_objects.c
    query = (select(t.date_added, t.body)
             .where(and_(t.date_added > after, t.author_org == reader.org, t.tlp != TLP.RED.value,
                         t.id != identity_id, visible(reader)))
             .order_by(t.date_added).limit(limit))
    return list(conn.execute(query))


def _wait(client: httpx.Client, remote: Remote, status: dict[str, Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    url = urljoin(remote.url, f"../../status/{status['id']}/")
    while status.get("status") != "complete" and time.monotonic() < deadline:
        time.sleep(0.5)
        status = _checked(client.get(url), "status")
    return status


def push(db: Database, remote: Remote, org: str, *, page_size: int = 500,
         progress: Progress | None = None, status_timeout: float = 120.0) -> SyncReport:
    """Send this hub's objects authored by ``org`` that the remote has not had yet."""
    found = db.read_sync(orgs.require, org)
    reader = Reader(org=found.code, kind=found.kind, parent=found.parent)
    report = SyncReport("push", remote.url)
    saved = db.read_sync(get_cursor, remote.url, "push")
    after = int(saved[0]) if saved else 0
    headers = {"Content-Type": TAXII_MEDIA}
    with remote.client() as client:
        while True:
            rows = db.read_sync(own_versions, reader, found.identity_id, after, page_size)
            if not rows:
                break
            body = b'{"objects":[' + ",".join(r.body for r in rows).encode() + b"]}"
            status = _checked(client.post(remote.url + "objects/", content=body, headers=headers),
                              "push")
            status = _wait(client, remote, status, status_timeout)
            failures = [f"{f.get('id')}: {f.get('message', 'rejected')}"
                        for f in status.get("failures", [])]
            report.add(int(status.get("success_count", 0)), 0, failures)
            after = rows[-1].date_added
            db.write_sync(set_cursor, remote.url, "push", str(after), len(rows))
            report.pages += 1
            report.objects += len(rows)
            report.cursor = str(after)
            if progress:
                progress(report)
    return report
