"""MISP events in, with ``pymisp`` and ``misp-stix``: an event becomes a report and keeps the rest.

In: :func:`import_events` reads a MISP document (:func:`bayanihan.ingest.misp_read.read_events`:
an event, ``{"Event": …}``, a list, a REST search response). For each event:

- the hub's report: ``info`` the title, ``bayanihan:*`` tags and MITRE galaxy tags the
  report's fields, event reports ``narrative`` and ``ai-evidence``, ``text`` attributes the
  lures, ``tlp:`` tags with the distribution level the TLP and audience (:func:`sharing`);
- attributes of the types in :data:`ATTRIBUTE_KINDS` and ``coin-address`` objects become
  the hub's typed observables (:class:`~bayanihan.ingest.misp_stix.Owned`);
- everything else (other attribute types, MISP objects and their references, galaxies,
  tags, sightings, other event reports) comes from ``misp-stix``; both are merged by
  :func:`bayanihan.ingest.misp_stix.assemble` under ids made of the MISP UUIDs.

A bad attribute (a value the hub cannot normalise, an object that fails validation) is
left out and named in the answer; the rest is stored. ``atomic=True`` refuses the event
instead. Each event is stored in one transaction.

Out: :func:`bayanihan.ingest.misp_out.report_to_event`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from pymisp import MISPEvent, MISPObject
from sqlalchemy import ColumnElement

from bayanihan.errors import InvalidInput
from bayanihan.ingest.bundles import Submitter
from bayanihan.ingest.misp_meta import event_meta, seen_notes
from bayanihan.ingest.misp_out import report_to_event
from bayanihan.ingest.misp_read import (
    ATTRIBUTE_KINDS,
    WALLET_SYMBOLS,
    locate,
    pairs,
    prepare,
    read_events,
    sharing,
)
from bayanihan.ingest.misp_stix import HUB_REPORTS, Owned, Refusal, assemble, convert
from bayanihan.ingest.observables import Observable, ObservableError, extract
from bayanihan.ingest.observables.domains import normalize_domain
from bayanihan.ingest.report_stix import TypedObservable, build
from bayanihan.ingest.report_submit import ensure_published, find_techniques
from bayanihan.ingest.reports import MAX_LURE_CHARS, MAX_LURES, MAX_OBSERVABLES, parse_report
from bayanihan.model.atlas import ATLAS_ID, ATTACK_ID
from bayanihan.model.members import is_member_state
from bayanihan.model.stix import now_us
from bayanihan.model.tlp import TLP

if TYPE_CHECKING:
    from bayanihan.hub import Hub

__all__ = ["ATTRIBUTE_KINDS", "EventResult", "Imported", "import_events", "read_events",
           "report_to_event", "sharing"]

_CHAINS = {v: k for k, v in WALLET_SYMBOLS.items()} | {"TRON": "TRON", "USDT": "TRON"}
_GALAXY = re.compile(r'^misp-galaxy:mitre-(?:atlas-)?attack-pattern="(.*) - ([A-Z0-9.]+)"$')
_LURE = re.compile(r"^lures\[(\d+)\]$")
_MAX_ERROR = 300

Linker = Callable[[Any, str], Awaitable[Any]]


@dataclass
class EventResult:
    """What one MISP event became."""

    event_uuid: str
    report_id: str
    object_ids: list[str]
    stored: int
    languages: list[str]
    refused: list[Refusal] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.report_id, "event_uuid": self.event_uuid,
                "objects": self.object_ids, "stored": self.stored,
                "languages": self.languages, "refused": [r.as_dict() for r in self.refused]}


@dataclass
class Imported:
    """The events of one MISP document; a single event answers as itself."""

    events: list[EventResult]
    single: bool
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        if self.single:
            return self.events[0].as_dict()
        return {"events": [e.as_dict() for e in self.events], "errors": self.errors}


def _load(event: dict[str, Any]) -> MISPEvent:
    loaded = MISPEvent()
    try:
        loaded.from_dict(**copy.deepcopy(event))  # pymisp takes the dicts it reads apart
    except Exception as exc:  # pymisp raises several kinds for malformed events
        raise InvalidInput(f"not a MISP event PyMISP can read: {str(exc)[:_MAX_ERROR]}",
                           ["Event"]) from None
    return loaded


def _tags(event: MISPEvent) -> list[str]:
    names = [t.name for t in event.tags]
    for galaxy in getattr(event, "galaxies", None) or ():
        names += [c.tag_name for c in getattr(galaxy, "clusters", ()) if getattr(c, "tag_name", None)]
    return list(dict.fromkeys(names))


def _observable(kind: str, hash_name: str | None, value: str, country: str | None) -> Observable:
    """The typed value as the hub normalises it; ValueError naming why not."""
    text = value.strip()
    if kind == "domain-name":  # typed already: no free-text heuristics (``www.`` is a host)
        try:
            forms = normalize_domain(text)
        except ObservableError as exc:
            raise ValueError(str(exc)) from None
        extra = [("host", forms.ascii), ("unicode", forms.unicode), ("skeleton", forms.skeleton)]
        if forms.registered_domain:
            extra.append(("registered_domain", forms.registered_domain))
        return Observable("domain-name", forms.ascii, text, (0, len(text)), tuple(extra))
    want = ("ipv4-addr", "ipv6-addr") if kind == "ip" else (kind,)
    for obs in extract(text, country):
        whole = obs.span[1] - obs.span[0] >= len(text) - 1
        if whole and obs.kind in want and hash_name in (None, obs.get("hash_type")):
            return obs
    raise ValueError(f"{value[:80]!r} is not a valid {hash_name or kind}")


def _wallet(obj: MISPObject, country: str | None) -> Observable:
    values = {a.object_relation: str(a.value) for a in obj.attributes}
    obs = _observable("crypto-wallet", None, values.get("address", ""), country)
    symbol = values.get("symbol", "").upper()
    if symbol and _CHAINS.get(symbol, symbol) != obs.get("chain"):
        raise ValueError(f"symbol {symbol} does not match the address ({obs.get('chain')})")
    return obs


def _labels(misp_type: str, attr: Any) -> tuple[str, ...]:
    out = [f'misp:type="{misp_type}"']
    if getattr(attr, "category", None):
        out.append(f'misp:category="{attr.category}"')
    out.append(f'misp:to_ids="{bool(getattr(attr, "to_ids", True))}"')
    return (*out, *(t.name for t in getattr(attr, "tags", ()) or ()))


def _stamp(item: Any) -> int | None:
    stamp = getattr(item, "timestamp", None)
    return int(stamp.timestamp()) if isinstance(stamp, datetime) else None


@dataclass
class _Parts:
    """What :func:`_split` finds in one event."""

    owned: list[Owned] = field(default_factory=list)
    lures: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def _split(loaded: MISPEvent, country: str | None, prefix: str) -> _Parts:
    """Owned observables, lures and refused attributes of an event."""
    parts, seen = _Parts(), set()
    for i, attr in enumerate(loaded.attributes):
        where = f"{prefix}.Attribute[{i}]"
        if attr.type == "text":
            text = str(attr.value)
            if 0 < len(text) <= MAX_LURE_CHARS and len(parts.lures) < MAX_LURES:
                parts.lures.append(text)
            continue
        if attr.type not in ATTRIBUTE_KINDS:
            continue
        kind, hash_name = ATTRIBUTE_KINDS[attr.type]
        try:
            obs = _observable(kind, hash_name, str(attr.value), country)
        except ValueError as exc:
            parts.refused.append(Refusal(f"{where}.value", str(exc)[:_MAX_ERROR]))
            continue
        if obs.key in seen or len(seen) >= MAX_OBSERVABLES:
            continue  # a second attribute with the same value: carried as misp-stix wrote it
        seen.add(obs.key)
        sent = str(attr.value)
        parts.owned.append(Owned(str(attr.uuid), where, bool(attr.to_ids), TypedObservable(
            obs, where, _labels(attr.type, attr), getattr(attr, "comment", None) or None),
            _stamp(attr), getattr(attr, "comment", None) or None,
            None if sent in (obs.value, obs.value.removeprefix("T1")) else sent,
            seen_notes({k: getattr(attr, k, None) for k in ("first_seen", "last_seen")})))
    for i, obj in enumerate(loaded.objects):
        if obj.name != "coin-address":
            continue
        where = f"{prefix}.Object[{i}]"
        try:
            obs = _wallet(obj, country)
        except ValueError as exc:
            parts.refused.append(Refusal(where, str(exc)[:_MAX_ERROR]))
            continue
        if obs.key not in seen:
            seen.add(obs.key)
            labels = ('misp:object="coin-address"', 'misp:to_ids="True"')
            parts.owned.append(Owned(str(obj.uuid), where, True, TypedObservable(
                obs, where, labels, getattr(obj, "comment", None) or None), _stamp(obj),
                getattr(obj, "comment", None) or None))
    return parts


def _report_data(loaded: MISPEvent, tags: Sequence[str], tlp: TLP, named: list[str] | None,
                 lures: list[str], techniques: list[str]) -> dict[str, Any]:
    values: dict[str, list[str]] = {}
    for key, value in pairs(tags):
        values.setdefault(key, []).append(value)
    one = {k: v[0] for k, v in values.items()}
    reports = {r.name: r.content for r in getattr(loaded, "event_reports", ())
               if r.name in HUB_REPORTS}
    first = one.get("first-seen") or (f"{loaded.date.isoformat()}T00:00:00Z"
                                      if getattr(loaded, "date", None) else None)
    data: dict[str, Any] = {
        "vector": one.get("vector", "other"), "title": str(loaded.info)[:300] or "MISP event",
        "narrative": reports.get("narrative", ""),
        "ai_involvement": {"assessment": one.get("ai-assessment", "unknown"),
                           "evidence": reports.get("ai-evidence", ""), "techniques": techniques},
        "lures": lures, "countries": values.get("country", []),
        "sectors": values.get("sector", []), "languages": values.get("language", []),
        "deepfake_media": values.get("deepfake-media", []), "tlp": tlp.value, "audience": named,
    }
    optional = {"channel": one.get("channel"), "first_seen": first,
                "last_seen": one.get("last-seen"), "reporting_country": one.get("reporting-country")}
    data.update({k: v for k, v in optional.items() if v})
    if "ai-confidence" in one:
        data["ai_involvement"]["confidence"] = one["ai-confidence"]
    return data


_MISP_FIELD = {"title": "info", "narrative": "EventReport", "lures": "Attribute"}


def _parse(data: dict[str, Any], prefix: str) -> tuple[Any, list[int]]:
    """The checked report; lures the report model refuses are left out (kept as attributes)."""
    dropped: list[int] = []
    while True:
        try:
            return parse_report(data), dropped
        except InvalidInput as exc:
            bad = [int(m.group(1)) for f in exc.fields if (m := _LURE.match(f))]
            if not bad or len(bad) != len(exc.fields):
                fields = [f"{prefix}.{_MISP_FIELD.get(f.split('.')[0].split('[')[0], 'Tag')}"
                          for f in exc.fields]
                if "audience" in exc.fields:  # or name the recipients with ?audience=
                    fields.append("audience")
                raise InvalidInput(f"MISP event: {exc.detail}",
                                   list(dict.fromkeys(fields))) from None
            dropped += bad
            data = {**data, "lures": [t for i, t in enumerate(data["lures"]) if i not in bad]}


@dataclass
class _Ready:
    """One event converted and checked, not stored yet."""

    prefix: str
    objects: list[dict[str, Any]]
    audience: list[str] | None
    result: EventResult


async def prepare_event(hub: Hub, prefix: str, event: dict[str, Any], submitter: Submitter,
                        readable: ColumnElement[bool], audience: Sequence[str] | None,
                        ) -> _Ready:
    """Convert and check one MISP event; InvalidInput naming the field when it cannot be."""
    event = prepare(event)
    loaded = _load(event)
    tags = _tags(loaded)
    tlp, named = sharing(loaded, tags, submitter.org, audience, event.get("SharingGroup"))
    country = next((v for k, v in pairs(tags) if k == "reporting-country"), None) \
        or (submitter.org if is_member_state(submitter.org) else None)
    parts = _split(loaded, country, prefix)
    galaxy = {t: m.group(2) for t in tags if (m := _GALAXY.match(t))
              and (ATLAS_ID.match(m.group(2)) or ATTACK_ID.match(m.group(2)))}
    await ensure_published(hub)
    wanted = list(dict.fromkeys(galaxy.values()))
    found = await hub.db.read(find_techniques, wanted, readable) if wanted else {}
    parts.refused += [Refusal(f"{prefix}.Tag", f"{tag}: unknown technique {tech} (no "
                              "attack-pattern with that id is stored; the galaxy cluster is "
                              "kept as it came)") for tag, tech in galaxy.items()
                      if tech not in found]
    report, _dropped = _parse(_report_data(loaded, tags, tlp, named, parts.lures,
                                           [t for t in wanted if t in found]), prefix)
    clusters = {str(c.uuid): found[galaxy[c.tag_name]]
                for g in loaded.galaxies for c in g.clusters
                if getattr(c, "tag_name", None) in galaxy and galaxy[c.tag_name] in found}
    stamp = _stamp(loaded)
    built = await anyio.to_thread.run_sync(lambda: build(
        report, author=submitter.identity_id, country=country, techniques=found,
        extra=[o.typed for o in parts.owned], extract_text=False,
        now=stamp * 1_000_000 if stamp else now_us()))
    converted, unconverted = await anyio.to_thread.run_sync(convert, event, prefix)
    parts.refused += unconverted
    refused_uuids = {str(o.uuid) for o in _refused_owners(loaded, parts.refused, prefix)}
    objects, more = await anyio.to_thread.run_sync(lambda: assemble(
        event, converted, built, parts.owned, submitter=submitter, level=report.level,
        audience=report.audience, techniques=clusters, refused_uuids=refused_uuids,
        where=locate(event, prefix), labels=_labels_of(tags, galaxy, found),
        meta=event_meta(event)))
    result = EventResult(str(event["uuid"]), objects[0]["id"], [o["id"] for o in objects], 0,
                         built.languages, parts.refused + more)
    return _Ready(prefix, objects, report.audience, result)


def _labels_of(tags: Sequence[str], galaxy: dict[str, str], found: dict[str, str]) -> list[str]:
    """The event's tags the report keeps as labels: all but those its fields hold already
    (TLP, ``bayanihan:*``, galaxy tags of the techniques it links to)."""
    return [t for t in tags if not t.lower().startswith(("tlp:", "bayanihan:"))
            and galaxy.get(t) not in found]


async def store_event(hub: Hub, ready: _Ready, submitter: Submitter) -> EventResult:
    """Store a checked event in one transaction."""
    result = await hub.ingest_objects(ready.objects, submitter, ready.audience, atomic=True,
                                      known={})
    if result.rejected:
        first = [(r, e) for r in result.results for e in r.errors if "same bundle" not in e.reason]
        raise InvalidInput("; ".join(f"{r.id}: {e.reason}" for r, e in first[:5]),
                           [ready.prefix])
    ready.result.stored = len(result.stored)
    return ready.result


def _refused_owners(loaded: MISPEvent, refused: Sequence[Refusal], prefix: str) -> list[Any]:
    """The MISP attributes and objects named by refusals made before conversion."""
    out = []
    for r in refused:
        m = re.match(rf"^{re.escape(prefix)}\.(Attribute|Object)\[(\d+)\]", r.field)
        if m:
            items = loaded.attributes if m.group(1) == "Attribute" else loaded.objects
            out.append(items[int(m.group(2))])
    return out


async def import_events(hub: Hub, raw: bytes, submitter: Submitter,
                        readable: ColumnElement[bool], audience: Sequence[str] | None,
                        *, atomic: bool = False, link: Linker | None = None) -> Imported:
    """Store every event of a MISP document, each in its own transaction.

    Every event is converted and checked before any is stored. ``atomic``: a refused part
    (or event) refuses the whole document, nothing stored. Otherwise refused parts are
    named in each event's answer and an event that cannot be stored at all is named in
    ``errors`` (a single event: the error itself). ``link(hub, report_id)`` runs after each
    stored event (the report pipeline's linking; this layer does not link).
    """
    events = read_events(raw)
    single = len(events) == 1 and events[0][0] == "Event"
    ready: list[_Ready] = []
    errors: list[dict[str, Any]] = []
    for prefix, event in events:
        try:
            ready.append(await prepare_event(hub, prefix, event, submitter, readable, audience))
        except InvalidInput as exc:
            if single or atomic:
                raise
            errors.append({"field": prefix, "detail": exc.detail, "fields": exc.fields})
    refused = [r for one in ready for r in one.result.refused]
    if atomic and refused:
        raise InvalidInput("; ".join(f"{r.field}: {r.reason}" for r in refused[:5]),
                           list(dict.fromkeys(r.field for r in refused)))
    results = []
    for one in ready:
        try:
            results.append(await store_event(hub, one, submitter))
        except InvalidInput as exc:
            if single or atomic:
                raise
            errors.append({"field": one.prefix, "detail": exc.detail, "fields": exc.fields})
            continue
        if link is not None:
            await link(hub, one.result.report_id)
    if not results:  # nothing stored: the list is refused
        raise InvalidInput("; ".join(f"{e['field']}: {e['detail']}" for e in errors[:5]),
                           [f for e in errors for f in e["fields"]])
    return Imported(results, single, errors)
