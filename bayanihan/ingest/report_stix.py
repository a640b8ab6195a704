"""A checked report as STIX 2.1: report, incident, indicators, observables, relationships.

What one report becomes (all under the report's TLP marking, authored by the submitter):

- ``report`` (name, description, published, ``object_refs`` to everything below) and an
  ``incident`` (the attack itself), both carrying the AI-threat extension in full;
- one ``indicator`` per observable found in the lures and the free-text observables, and
  per uploaded file (SHA-256 pattern), with the extension's vector/channel/targets;
- the observables themselves as SCOs (``url``, ``domain-name``, ``ipv4-addr``,
  ``ipv6-addr``, ``email-addr``, ``file``, and the hub's ``bayanihan-phone-number`` and
  ``bayanihan-crypto-wallet`` new-SCO types from :mod:`bayanihan.ingest.observables.stix`);
- ``relationship``\\ s: ``incident uses attack-pattern``, ``indicator indicates
  attack-pattern`` and ``indicator related-to incident``.

Indicators made from MISP attributes carry the misp-stix labels (``misp:type="ip-src"``,
``misp:category="…"``, ``misp:to_ids="True"``) so the MISP export gives back what came in.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bayanihan.ingest.observables import Observable, extract
from bayanihan.ingest.observables.language import identify_language
from bayanihan.ingest.observables.stix import stix_object, stix_pattern
from bayanihan.ingest.reports import MAX_OBSERVABLES, Report
from bayanihan.ingest.uploads import Upload, file_objects
from bayanihan.model.extension import with_ai_properties
from bayanihan.model.stix import format_ms, new_id, now_us

__all__ = ["Built", "TooManyObservables", "TypedObservable", "build", "lure_fingerprint", "observables_of"]

_SPACE = re.compile(r"\s+")
_INDICATOR_NAMES = {
    "url": "URL", "domain-name": "Domain", "email-addr": "E-mail address",
    "ipv4-addr": "IPv4 address", "ipv6-addr": "IPv6 address", "phone-number": "Phone number",
    "file-hash": "File hash", "crypto-wallet": "Crypto wallet",
}


@dataclass(frozen=True)
class TypedObservable:
    """An observable and where it came from (a lure, the observables text, a MISP attribute)."""

    observable: Observable
    source: str  # "lures[0]", "observables", "Attribute[3]"…
    labels: tuple[str, ...] = ()
    description: str | None = None


@dataclass
class Built:
    """The STIX objects of one report, the report's id and what the index needs."""

    report_id: str
    objects: list[dict[str, Any]]
    languages: list[str]
    observables: list[TypedObservable] = field(default_factory=list)


class TooManyObservables(ValueError):
    """A report carrying more than :data:`MAX_OBSERVABLES` observables (refused whole)."""

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(
            f"a report carries at most {MAX_OBSERVABLES} observables; this one has more "
            "(counting those in its lures). Send large indicator lists as a STIX bundle to "
            "bulk ingest, POST /api/v1/objects")


def lure_fingerprint(text: str) -> str:
    """SHA-256 of the NFKC, case-folded, whitespace-collapsed text (``sha256-nfkc``)."""
    norm = _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def observables_of(report: Report, country: str | None, *, lures: bool = True,
                   ) -> list[TypedObservable]:
    """Observables in the lures and the observables text, de-duplicated, first source wins."""
    seen: set[tuple[str, str]] = set()
    out: list[TypedObservable] = []
    sources = [(f"lures[{i}]", t) for i, t in enumerate(report.lures)] if lures else []
    texts = report.observable_texts()
    sources += [("observables" if len(texts) == 1 and isinstance(report.observables, str)
                 else f"observables[{i}]", t) for i, t in enumerate(texts)]
    for where, text in sources:
        for obs in extract(text, country):
            if obs.key not in seen:
                seen.add(obs.key)
                out.append(TypedObservable(obs, where))
                if len(out) > MAX_OBSERVABLES:
                    raise TooManyObservables("observables" if where.startswith("observables")
                                             else where)
    return out


def _languages(report: Report) -> tuple[list[str], list[dict[str, Any]]]:
    langs = list(report.languages)
    prints = []
    for text in report.lures:
        guess = identify_language(text)
        entry: dict[str, Any] = {"algorithm": "sha256-nfkc", "value": lure_fingerprint(text),
                                 "text": text}
        if guess is not None:
            entry["language"] = guess.code
            if not report.languages and guess.code not in langs:
                langs.append(guess.code)
        prints.append(entry)
    return langs, prints


def ai_properties(report: Report, languages: list[str], lure_prints: list[dict[str, Any]],
                  uploads: Sequence[tuple[Upload, str]]) -> dict[str, Any]:
    """The extension's properties for the report and the incident."""
    ai = report.ai_involvement
    involvement: dict[str, Any] = {"assessment": ai.assessment}
    if ai.confidence is not None:
        involvement["confidence"] = ai.confidence
    if ai.evidence:
        involvement["evidence"] = ai.evidence
    if ai.techniques:
        involvement["techniques"] = ai.techniques
    props: dict[str, Any] = {"vector": report.vector, "ai_involvement": involvement}
    optional = {
        "channel": report.channel, "deepfake_media": report.deepfake_media,
        "languages": languages, "targeted_countries": report.countries,
        "targeted_sectors": report.sectors,
        "first_seen": format_ms_dt(report.first_seen), "last_seen": format_ms_dt(report.last_seen),
        "lure_fingerprints": lure_prints,
        "media_fingerprints": [
            {"algorithm": "SHA-256", "value": up.hashes["SHA-256"], "media_type": up.mime_type,
             "file_ref": file_id} for up, file_id in uploads if up.kind != "sample"],
    }
    props.update({k: v for k, v in optional.items() if v})
    return props


def format_ms_dt(moment: Any) -> str | None:
    if moment is None:
        return None
    return format_ms(int(moment.timestamp()) * 1_000_000 + moment.microsecond)


def plain_stamp(stamp: str) -> str:
    """A timestamp without trailing fractional zeros, as the ``stix2`` library writes
    ``published`` and ``valid_from``, so objects survive a trip through it unchanged."""
    head, dot, frac = stamp.removesuffix("Z").partition(".")
    frac = frac.rstrip("0")
    return f"{head}.{frac}Z" if dot and frac else f"{head}Z"


def _indicator(name: str, pattern: str, base: dict[str, Any], valid_from: str,
               short_props: dict[str, Any], labels: Sequence[str],
               description: str | None) -> dict[str, Any]:
    obj = {**base, "type": "indicator", "id": new_id("indicator"), "name": name[:250],
           "indicator_types": ["malicious-activity"], "pattern": pattern,
           "pattern_type": "stix", "pattern_version": "2.1", "valid_from": valid_from}
    if labels:
        obj["labels"] = list(labels)
    if description:
        obj["description"] = description
    return with_ai_properties(obj, short_props)


def _relationship(base: dict[str, Any], kind: str, source: str, target: str) -> dict[str, Any]:
    return {**base, "type": "relationship", "id": new_id("relationship"),
            "relationship_type": kind, "source_ref": source, "target_ref": target}


def build(report: Report, *, author: str, country: str | None,
          techniques: dict[str, str], uploads: Sequence[Upload] = (),
          extra: Sequence[TypedObservable] = (), extract_text: bool = True,
          now: int | None = None) -> Built:
    """The report's STIX objects. ``techniques``: technique id -> attack-pattern id.

    ``extra``: observables typed already (MISP attributes); ``extract_text=False`` takes no
    observables from the lures and the observables text.
    """
    stamp = format_ms(now or now_us())
    markings = [report.level.marking_id]
    base = {"spec_version": "2.1", "created_by_ref": author, "created": stamp, "modified": stamp,
            "object_marking_refs": markings}
    found = observables_of(report, country) if extract_text else []
    keys = {t.observable.key for t in found}
    found += [t for t in extra if t.observable.key not in keys]
    if len(found) > MAX_OBSERVABLES:
        raise TooManyObservables(found[MAX_OBSERVABLES].source)
    scos: dict[str, dict[str, Any]] = {}
    for typed in found:
        sco = stix_object(typed.observable)
        scos.setdefault(sco["id"], {**sco, "object_marking_refs": markings})
    file_refs: list[tuple[Upload, str]] = []
    for up in uploads:
        file_obj, more = file_objects(up, markings)
        scos[file_obj["id"]] = file_obj
        scos.update({o["id"]: o for o in more})
        file_refs.append((up, file_obj["id"]))
    languages, prints = _languages(report)
    props = ai_properties(report, languages, prints, file_refs)
    short = {k: props[k] for k in ("vector", "channel", "targeted_countries") if k in props}
    valid_from = plain_stamp(props.get("first_seen", stamp))
    incident = with_ai_properties({**base, "type": "incident", "id": new_id("incident"),
                                   "name": report.title, "description": report.narrative or
                                   report.title}, props)
    indicators = [
        _indicator(f"{_INDICATOR_NAMES[t.observable.kind]} {t.observable.value}",
                   stix_pattern(t.observable), base, valid_from, short, t.labels, t.description)
        for t in found
    ]
    for up, _file_id in file_refs:
        what = "Sample" if up.kind == "sample" else f"Deepfake {up.kind}"
        indicators.append(_indicator(
            f"{what} {up.name or up.hashes['SHA-256']}",
            f"[file:hashes.'SHA-256' = '{up.hashes['SHA-256']}']", base, valid_from, short,
            (), None))
    relationships = [_relationship(base, "uses", incident["id"], ap) for ap in techniques.values()]
    for ind in indicators:
        relationships.append(_relationship(base, "related-to", ind["id"], incident["id"]))
        relationships += [_relationship(base, "indicates", ind["id"], ap)
                          for ap in techniques.values()]
    members = [incident, *indicators, *scos.values(), *relationships]
    refs = [o["id"] for o in members] + list(dict.fromkeys(techniques.values()))
    report_obj = with_ai_properties({
        **base, "type": "report", "id": new_id("report"), "name": report.title,
        "description": report.narrative or report.title, "published": plain_stamp(stamp),
        "report_types": ["threat-report"], "object_refs": refs,
    }, props)
    return Built(report_obj["id"], [report_obj, *members], languages, found)
