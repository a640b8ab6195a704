"""MISP events in and out, with ``pymisp``: an event becomes a report (same ingest path).

In: a MISP event as PyMISP writes it (``{"Event": {...}}`` or the bare event) is read with
``pymisp.MISPEvent``; its attributes of the supported types (:data:`ATTRIBUTE_KINDS`) and
its ``coin-address`` objects become typed observables, ``text`` attributes become lures,
the event reports ``narrative`` and ``ai-evidence`` the narrative and the AI evidence,
``bayanihan:*`` tags and MITRE galaxy tags the report's other fields, and ``tlp:`` tags
with the distribution level give TLP 2.0 and audience (:func:`sharing`). The result is
stored through :func:`bayanihan.ingest.report_submit.submit_report`, like any report.

Out: :func:`report_to_event` writes a stored report and its objects back as a MISP event.
Indicators keep the MISP type, category and ``to_ids`` they came with (as misp-stix labels
``misp:type="…"``), so an event survives the round trip; values are the hub's canonical
forms (lower-case host names, E.164 phone numbers, compressed IPv6).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from pymisp import MISPEvent, MISPObject
from sqlalchemy import ColumnElement

from bayanihan.errors import InvalidInput
from bayanihan.ingest.bundles import Submitter
from bayanihan.ingest.observables import Observable, extract
from bayanihan.ingest.report_stix import TypedObservable
from bayanihan.ingest.report_submit import Submitted, submit_report
from bayanihan.ingest.reports import Report, parse_report
from bayanihan.model.atlas import ATLAS_ID, ATTACK_ID
from bayanihan.model.extension import ai_properties
from bayanihan.model.members import is_member_state
from bayanihan.model.tlp import TLP, tlp_of

if TYPE_CHECKING:
    from bayanihan.hub import Hub

__all__ = ["ATTRIBUTE_KINDS", "event_to_report", "import_event", "read_event",
           "report_to_event", "sharing"]

#: MISP attribute type -> observable kind (and, for hashes, the STIX hash name).
ATTRIBUTE_KINDS: dict[str, tuple[str, str | None]] = {
    "url": ("url", None), "link": ("url", None),
    "domain": ("domain-name", None), "hostname": ("domain-name", None),
    "ip-src": ("ip", None), "ip-dst": ("ip", None),
    "email": ("email-addr", None), "email-src": ("email-addr", None),
    "email-dst": ("email-addr", None),
    "md5": ("file-hash", "MD5"), "sha1": ("file-hash", "SHA-1"),
    "sha256": ("file-hash", "SHA-256"), "sha512": ("file-hash", "SHA-512"),
    "tlsh": ("file-hash", "TLSH"), "ssdeep": ("file-hash", "SSDEEP"),
    "phone-number": ("phone-number", None), "btc": ("crypto-wallet", None),
}
#: The MISP type an observable kind is written as when it came with none.
DEFAULT_TYPES = {"url": "url", "domain-name": "domain", "ipv4-addr": "ip-dst",
                 "ipv6-addr": "ip-dst", "email-addr": "email-src", "phone-number": "phone-number"}
HASH_TYPES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-512": "sha512",
              "TLSH": "tlsh", "SSDEEP": "ssdeep"}
WALLET_SYMBOLS = {"BTC": "BTC", "ETH": "ETH", "TRON": "TRX"}
_CHAINS = {v: k for k, v in WALLET_SYMBOLS.items()} | {"TRON": "TRON", "USDT": "TRON"}
#: MISP distribution -> TLP when the event has no tlp: tag.
DISTRIBUTION_TLP = {0: TLP.RED, 1: TLP.AMBER, 2: TLP.GREEN, 3: TLP.GREEN, 4: TLP.AMBER}
TLP_DISTRIBUTION = {TLP.CLEAR: 3, TLP.GREEN: 2, TLP.AMBER: 1, TLP.AMBER_STRICT: 1, TLP.RED: 0}
_TAG = re.compile(r'^bayanihan:([a-z-]+)="(.*)"$', re.S)
_GALAXY = re.compile(r'^misp-galaxy:mitre-(?:atlas-)?attack-pattern="(.*) - ([A-Z0-9.]+)"$')
_LABEL = re.compile(r'^misp:([a-z_-]+)="(.*)"$', re.S)
_PATTERN = re.compile(r"^\[(?P<type>[a-z0-9-]+):(?P<path>value|hashes\.'(?P<hash>[A-Z0-9-]+)')"
                      r" = '(?P<value>(?:[^'\\]|\\.)*)'\]$")
_MAX_ERROR = 300


def read_event(raw: bytes) -> dict[str, Any]:
    """The event dict of a MISP event JSON document; InvalidInput otherwise."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"body is not JSON (or not UTF-8): {exc}", ["body"]) from None
    if isinstance(doc, dict) and isinstance(doc.get("Event"), dict):
        doc = doc["Event"]
    if not isinstance(doc, dict) or "info" not in doc:
        raise InvalidInput("body must be a MISP event: {\"Event\": {\"info\": …}}", ["Event"])
    return doc


def _load(event: dict[str, Any]) -> MISPEvent:
    loaded = MISPEvent()
    try:
        loaded.from_dict(**event)
    except Exception as exc:  # pymisp raises several kinds for malformed events
        raise InvalidInput(f"not a MISP event PyMISP can read: {str(exc)[:_MAX_ERROR]}",
                           ["Event"]) from None
    return loaded


def _tags(event: MISPEvent) -> list[str]:
    names = [t.name for t in event.tags]
    for galaxy in getattr(event, "galaxies", None) or ():
        names += [c.tag_name for c in getattr(galaxy, "clusters", ()) if getattr(c, "tag_name", None)]
    return names


def sharing(event: MISPEvent, tags: Sequence[str], own_org: str,
            audience: Sequence[str] | None, group: Any = None) -> tuple[TLP, list[str] | None]:
    """TLP and audience from ``tlp:`` tags, the distribution level and sharing group.

    A ``tlp:`` tag decides the level (``tlp:white`` is CLEAR); without one the
    distribution does (0 your organisation only: RED to yourself; 1 this community: AMBER;
    2 connected and 3 all communities: GREEN; 4 sharing group: AMBER to its organisations).
    An explicit ``audience`` (request parameter) wins, then ``bayanihan:audience`` tags,
    then the organisations of the sharing ``group`` (the event's ``SharingGroup``, matched
    by name to organisation codes), then distribution 0's own organisation.
    """
    levels = [t.split(":", 1)[1] for t in tags if t.lower().startswith("tlp:")]
    parsed = []
    for i, level in enumerate(levels):
        try:
            parsed.append(TLP.parse(level))
        except ValueError as exc:
            raise InvalidInput(f"Tag: {exc}", [f"Event.Tag[{i}]"]) from None
    raw = getattr(event, "distribution", None)
    try:
        distribution = 1 if raw is None else int(raw)
    except (TypeError, ValueError):
        raise InvalidInput("distribution must be 0-5", ["Event.distribution"]) from None
    tlp = max(parsed, key=lambda t: t.rank) if parsed else DISTRIBUTION_TLP.get(distribution, TLP.AMBER)
    named = list(audience) if audience else [v for k, v in _pairs(tags) if k == "audience"]
    if not named and distribution == 4:
        orgs = group.get("SharingGroupOrg", []) if isinstance(group, dict) else []
        named = [str(o.get("Organisation", {}).get("name", "")) for o in orgs
                 if isinstance(o, dict) and isinstance(o.get("Organisation"), dict)]
        named = [n for n in named if n]
    if not named and distribution == 0:
        named = [own_org]
    return tlp, named or None


def _pairs(tags: Sequence[str]) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for t in tags if (m := _TAG.match(t))]


def _observable(kind: str, hash_name: str | None, value: str, country: str | None,
                where: str) -> Observable:
    try:
        found = extract(value, country)
    except ValueError as exc:
        raise InvalidInput(f"{where}: {exc}", [where]) from None
    want = ("ipv4-addr", "ipv6-addr") if kind == "ip" else (kind,)
    for obs in found:
        whole = obs.span[1] - obs.span[0] >= len(value.strip()) - 1
        if whole and obs.kind in want and hash_name in (None, obs.get("hash_type")):
            return obs
    wanted = hash_name or kind
    raise InvalidInput(f"{where}: {value[:80]!r} is not a valid {wanted}", [where])


def _wallet(obj: MISPObject, country: str | None, where: str) -> Observable:
    values = {a.object_relation: str(a.value) for a in obj.attributes}
    address = values.get("address", "")
    obs = _observable("crypto-wallet", None, address, country, f"{where}.address")
    symbol = values.get("symbol", "").upper()
    if symbol and _CHAINS.get(symbol, symbol) != obs.get("chain"):
        raise InvalidInput(f"{where}.symbol: {symbol} does not match the address "
                           f"({obs.get('chain')})", [f"{where}.symbol"])
    return obs


def event_to_report(event: dict[str, Any], own_org: str, audience: Sequence[str] | None,
                    ) -> tuple[Report, list[TypedObservable], dict[str, str]]:
    """The report, its typed observables and (source -> MISP field) for error messages."""
    loaded = _load(event)
    tags = _tags(loaded)
    pairs = _pairs(tags)
    tlp, named = sharing(loaded, tags, own_org, audience, event.get("SharingGroup"))
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        values.setdefault(key, []).append(value)
    one = {k: v[0] for k, v in values.items()}
    techniques = [m.group(2) for t in tags if (m := _GALAXY.match(t))
                  and (ATLAS_ID.match(m.group(2)) or ATTACK_ID.match(m.group(2)))]
    reports = {r.name: r.content for r in getattr(loaded, "event_reports", ())}
    country = one.get("reporting-country") or (own_org if is_member_state(own_org) else None)
    lures, typed, field_of = [], [], {}
    for i, attr in enumerate(loaded.attributes):
        where = f"Event.Attribute[{i}]"
        if attr.type == "text":
            lures.append(str(attr.value))
            continue
        if attr.type not in ATTRIBUTE_KINDS:
            continue
        kind, hash_name = ATTRIBUTE_KINDS[attr.type]
        obs = _observable(kind, hash_name, str(attr.value), country, f"{where}.value")
        labels = _labels(attr.type, getattr(attr, "category", None), getattr(attr, "to_ids", True))
        typed.append(TypedObservable(obs, where, labels, getattr(attr, "comment", None) or None))
        field_of[where] = f"{where}.value"
    for i, obj in enumerate(loaded.objects):
        if obj.name == "coin-address":
            where = f"Event.Object[{i}]"
            typed.append(TypedObservable(_wallet(obj, country, where), where,
                                         ('misp:object="coin-address"',),
                                         getattr(obj, "comment", None) or None))
    first = one.get("first-seen") or (f"{loaded.date.isoformat()}T00:00:00Z"
                                      if getattr(loaded, "date", None) else None)
    data: dict[str, Any] = {
        "vector": one.get("vector", "other"), "title": loaded.info,
        "narrative": reports.get("narrative", ""),
        "ai_involvement": {"assessment": one.get("ai-assessment", "unknown"),
                           "evidence": reports.get("ai-evidence", ""),
                           "techniques": techniques},
        "lures": lures, "countries": values.get("country", []),
        "sectors": values.get("sector", []), "languages": values.get("language", []),
        "deepfake_media": values.get("deepfake-media", []),
        "tlp": tlp.value, "audience": named,
    }
    optional = {"channel": one.get("channel"), "first_seen": first,
                "last_seen": one.get("last-seen"),
                "reporting_country": one.get("reporting-country")}
    data.update({k: v for k, v in optional.items() if v})
    if "ai-confidence" in one:
        data["ai_involvement"]["confidence"] = one["ai-confidence"]
    try:
        report = parse_report(data)
    except InvalidInput as exc:
        fields = [f"Event.{_MISP_FIELD.get(f.split('.')[0].split('[')[0], f)}" for f in exc.fields]
        if "audience" in exc.fields:  # or name the recipients with ?audience=
            fields.append("audience")
        raise InvalidInput(f"MISP event: {exc.detail}", list(dict.fromkeys(fields))) from None
    return report, typed, field_of


_MISP_FIELD = {"title": "info", "vector": "Tag", "channel": "Tag", "countries": "Tag",
               "sectors": "Tag", "languages": "Tag", "ai_involvement": "Tag", "tlp": "Tag",
               "audience": "Tag", "first_seen": "Tag", "last_seen": "Tag",
               "lures": "Attribute", "narrative": "EventReport", "deepfake_media": "Tag"}


def _labels(misp_type: str, category: str | None, to_ids: bool | None) -> tuple[str, ...]:
    out = [f'misp:type="{misp_type}"']
    if category:
        out.append(f'misp:category="{category}"')
    out.append(f'misp:to_ids="{bool(to_ids)}"')
    return tuple(out)


async def import_event(hub: Hub, event: dict[str, Any], submitter: Submitter,
                       readable: ColumnElement[bool], audience: Sequence[str] | None,
                       ) -> Submitted:
    """Store a MISP event as a report (one transaction, wholly or not at all)."""
    report, typed, field_of = event_to_report(event, submitter.org, audience)
    return await submit_report(hub, report, submitter, readable, extra=typed,
                               field_of=field_of, extract_text=False)


# -- out -------------------------------------------------------------------------------
def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _indicator_attribute(obj: dict[str, Any], scos: dict[str, dict[str, Any]],
                         ) -> tuple[str, dict[str, Any], dict[str, str]] | None:
    """(kind, attribute fields, wallet details) of an indicator the hub made; None otherwise."""
    match = _PATTERN.match(str(obj.get("pattern", "")))
    if match is None:
        return None
    labels = dict(m.groups() for lb in obj.get("labels", ()) if (m := _LABEL.match(lb)))
    value = _unescape(match.group("value"))
    sco_type, hash_name = match.group("type"), match.group("hash")
    wallet: dict[str, str] = {}
    if hash_name:
        kind, misp_type = "file-hash", HASH_TYPES.get(hash_name)
        if hash_name == "TLSH" and not value.upper().startswith("T1"):
            value = "T1" + value
    elif sco_type == "bayanihan-crypto-wallet":
        kind, misp_type = "crypto-wallet", "btc"
        wallet["chain"] = next((str(s.get("chain")) for s in scos.values()
                                if s["type"] == sco_type and s.get("value") == value), "BTC")
        if labels.get("object"):
            wallet["object"] = labels["object"]
    else:
        kind = {"bayanihan-phone-number": "phone-number"}.get(sco_type, sco_type)
        misp_type = DEFAULT_TYPES.get(kind)
    if misp_type is None:
        return None
    fields = {"type": labels.get("type", misp_type), "value": value,
              "to_ids": labels.get("to_ids", "True") == "True"}
    if labels.get("category"):
        fields["category"] = labels["category"]
    if obj.get("description"):
        fields["comment"] = obj["description"]
    return kind, fields, wallet


def report_to_event(objects: list[dict[str, Any]], audience: Sequence[str] | None = None,
                    ) -> dict[str, Any]:
    """A MISP event (``{"Event": …}``) for a stored report and the objects it refers to.

    ``audience``: the report's named recipients, written as ``bayanihan:audience`` tags.
    """
    report = objects[0]
    props = ai_properties(report) or {}
    event = MISPEvent()
    event.info = report.get("name", "")
    event.uuid = report["id"].split("--", 1)[1]
    tlp = tlp_of(report.get("object_marking_refs")) or TLP.AMBER
    event.distribution = TLP_DISTRIBUTION[tlp]
    first = props.get("first_seen") or report.get("published") or report.get("created")
    event.set_date(datetime.fromisoformat(first.replace("Z", "+00:00")).astimezone(UTC).date())
    event.add_tag(f"tlp:{tlp.value}")
    _add_tags(event, props)
    for org in audience or ():
        event.add_tag(f'bayanihan:audience="{org}"')
    aps = {o["id"]: o for o in objects if o.get("type") == "attack-pattern"}
    for ap_id in report.get("object_refs", ()):
        ap = aps.get(ap_id)
        for ref in (ap or {}).get("external_references", ()):
            ext, src = ref.get("external_id", ""), ref.get("source_name", "")
            if src in ("mitre-atlas", "mitre-attack") and ext:
                galaxy = "mitre-atlas-attack-pattern" if src == "mitre-atlas" else "mitre-attack-pattern"
                event.add_tag(f'misp-galaxy:{galaxy}="{ap.get("name", ext)} - {ext}"')
    if report.get("description") and report.get("description") != report.get("name"):
        event.add_event_report(name="narrative", content=report["description"])
    ai = props.get("ai_involvement") or {}
    if ai.get("evidence"):
        event.add_event_report(name="ai-evidence", content=ai["evidence"])
    for lure in props.get("lure_fingerprints") or ():
        if lure.get("text"):
            event.add_attribute("text", lure["text"], category="Other", to_ids=False,
                                comment="lure")
    scos = {o["id"]: o for o in objects if "pattern" not in o and o.get("type") != "report"}
    for obj in objects:
        if obj.get("type") != "indicator":
            continue
        made = _indicator_attribute(obj, scos)
        if made is None:
            continue
        kind, fields, wallet = made
        if kind == "crypto-wallet" and (wallet["chain"] != "BTC" or wallet.get("object")):
            coin = MISPObject("coin-address")
            coin.add_attribute("address", value=fields["value"])
            coin.add_attribute("symbol", value=WALLET_SYMBOLS[wallet["chain"]])
            event.add_object(coin)
        else:
            event.add_attribute(**fields)
    return {"Event": orjson.loads(event.to_json())}


def _add_tags(event: MISPEvent, props: dict[str, Any]) -> None:
    ai = props.get("ai_involvement") or {}
    single = {"vector": props.get("vector"), "channel": props.get("channel"),
              "first-seen": props.get("first_seen"), "last-seen": props.get("last_seen"),
              "ai-assessment": ai.get("assessment"),
              "ai-confidence": str(ai["confidence"]) if "confidence" in ai else None}
    for key, value in single.items():
        if value:
            event.add_tag(f'bayanihan:{key}="{value}"')
    for key, prop in (("country", "targeted_countries"), ("sector", "targeted_sectors"),
                      ("language", "languages"), ("deepfake-media", "deepfake_media")):
        for value in props.get(prop) or ():
            event.add_tag(f'bayanihan:{key}="{value}"')

