"""The plain JSON report an analyst or a script writes, and its checks.

A report needs no STIX knowledge: vector, title, narrative, when, how AI was involved,
lure texts, free-text observables, targets, languages, TLP and audience. Every problem is
an :class:`~bayanihan.errors.InvalidInput` naming the field (``lures[2]``,
``ai_involvement.techniques[0]``, ``audience``…). :mod:`bayanihan.ingest.report_stix`
turns a checked report into STIX 2.1; :mod:`bayanihan.ingest.report_submit` stores it.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

import pycountry
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from stix2.v21.vocab import INDUSTRY_SECTOR

from bayanihan.errors import InvalidInput
from bayanihan.model.atlas import is_technique_id, normalise_technique_id
from bayanihan.model.tlp import TLP

__all__ = [
    "CHANNELS",
    "MAX_OBSERVABLES",
    "VECTORS",
    "AiInvolvement",
    "Report",
    "country_code",
    "language_code",
    "parse_report",
]

VECTORS = ("phishing", "malware", "identity-fraud", "reconnaissance", "other")
CHANNELS = ("email", "sms", "voice", "chat", "social")
MAX_LURES = 50
MAX_LURE_CHARS = 10_000
MAX_TEXT_CHARS = 100_000
#: Observables one report may carry (found in its lures and observables text, or given
#: typed): larger lists go to bulk STIX ingest, ``POST /api/v1/objects`` (issue 12).
MAX_OBSERVABLES = 1_000
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}

Short = Annotated[str, Field(min_length=1, max_length=300)]


def _garbage(char: str) -> bool:
    """Control characters (except tab and newlines), surrogates, noncharacters."""
    cat = unicodedata.category(char)
    if cat == "Cc":
        return char not in _ALLOWED_CONTROLS
    point = ord(char)
    return cat == "Cs" or 0xFDD0 <= point <= 0xFDEF or point & 0xFFFE == 0xFFFE


def _clean_text(value: str) -> str:
    """``value`` unchanged; ValueError when it holds binary garbage rather than text.

    A few U+FFFD (a message cut inside a character, common in SMS exports) are text;
    more than one character in ten is a binary file decoded as text.
    """
    for i, char in enumerate(value):
        if _garbage(char):
            raise ValueError(f"looks like binary data, not text (U+{ord(char):04X} at "
                             f"character {i})")
    if value.count("\ufffd") * 10 > max(len(value), 10):
        raise ValueError("looks like binary data, not text (mostly U+FFFD replacement "
                         "characters)")
    return value


def country_code(value: str) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased; ValueError for anything else."""
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def language_code(value: str) -> str:
    """An ISO 639-1 code, lower-cased (``fil`` is accepted as ``tl``); ValueError otherwise."""
    code = value.strip().lower()
    if code == "fil":
        code = "tl"
    if len(code) != 2 or pycountry.languages.get(alpha_2=code) is None:
        raise ValueError(f"{value!r} is not an ISO 639-1 language code")
    return code


class AiInvolvement(BaseModel):
    """How AI was involved: assessment, confidence 0–100, evidence, ATLAS/ATT&CK techniques."""

    model_config = ConfigDict(extra="forbid")

    assessment: Literal["confirmed", "suspected", "unknown"] = "unknown"
    confidence: int | None = Field(default=None, ge=0, le=100)
    evidence: str = Field(default="", max_length=MAX_LURE_CHARS)
    techniques: list[str] = Field(default_factory=list, max_length=100)

    @field_validator("evidence")
    @classmethod
    def _evidence(cls, value: str) -> str:
        return _clean_text(value)

    @field_validator("techniques")
    @classmethod
    def _techniques(cls, values: list[str]) -> list[str]:
        for i, value in enumerate(values):
            if not is_technique_id(value):
                raise ValueError(f"[{i}] {value!r} is not a MITRE ATLAS (AML.T0052) or "
                                 "ATT&CK (T1566) technique id")
        return list(dict.fromkeys(normalise_technique_id(v) for v in values))


class Report(BaseModel):
    """An AI-driven attack as reported. See docs/reporting.md for every field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    vector: Literal["phishing", "malware", "identity-fraud", "reconnaissance", "other"]
    channel: Literal["email", "sms", "voice", "chat", "social"] | None = None
    deepfake_media: list[Literal["audio", "video", "image"]] = Field(default_factory=list)
    title: Short
    narrative: str = Field(default="", max_length=MAX_TEXT_CHARS)
    first_seen: AwareDatetime | None = None
    last_seen: AwareDatetime | None = None
    ai_involvement: AiInvolvement = Field(default_factory=AiInvolvement)
    lures: list[Annotated[str, Field(min_length=1, max_length=MAX_LURE_CHARS)]] = Field(
        default_factory=list, max_length=MAX_LURES)
    observables: str | list[Annotated[str, Field(max_length=MAX_LURE_CHARS)]] = Field(
        default="", max_length=MAX_TEXT_CHARS)
    countries: list[str] = Field(default_factory=list, max_length=250)
    sectors: list[str] = Field(default_factory=list, max_length=40)
    languages: list[str] = Field(default_factory=list, max_length=40)
    reporting_country: str | None = None
    tlp: str = "amber"
    audience: list[str] | None = None

    @field_validator("title", "narrative")
    @classmethod
    def _text(cls, value: str) -> str:
        return _clean_text(value)

    @field_validator("lures")
    @classmethod
    def _lures(cls, values: list[str]) -> list[str]:
        for i, value in enumerate(values):
            try:
                _clean_text(value)
            except ValueError as exc:
                raise ValueError(f"[{i}] {exc}") from None
        return values

    @field_validator("observables")
    @classmethod
    def _observables(cls, value: str | list[str]) -> str | list[str]:
        for item in [value] if isinstance(value, str) else value:
            _clean_text(item)
        return value

    @field_validator("countries")
    @classmethod
    def _countries(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(_each(values, country_code)))

    @field_validator("reporting_country")
    @classmethod
    def _reporting(cls, value: str | None) -> str | None:
        return country_code(value) if value else None

    @field_validator("languages")
    @classmethod
    def _languages(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(_each(values, language_code)))

    @field_validator("sectors")
    @classmethod
    def _sectors(cls, values: list[str]) -> list[str]:
        def one(value: str) -> str:
            sector = value.strip().lower()
            if sector not in INDUSTRY_SECTOR:
                raise ValueError(f"{value!r} is not a STIX industry sector "
                                 f"({', '.join(INDUSTRY_SECTOR)})")
            return sector
        return list(dict.fromkeys(_each(values, one)))

    @field_validator("tlp")
    @classmethod
    def _tlp(cls, value: str) -> str:
        return TLP.parse(value).value

    @field_validator("audience")
    @classmethod
    def _audience(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        return list(dict.fromkeys(v.strip().upper() for v in values if v.strip()))

    @property
    def level(self) -> TLP:
        return TLP(self.tlp)

    def observable_texts(self) -> list[str]:
        return [self.observables] if isinstance(self.observables, str) else list(self.observables)


def _each(values: list[str], check: Any) -> list[str]:
    out = []
    for i, value in enumerate(values):
        try:
            out.append(check(value))
        except ValueError as exc:
            raise ValueError(f"[{i}] {exc}") from None
    return out


def _field(loc: tuple[Any, ...], msg: str) -> str:
    """A pydantic error location as a field path (``lures[2]``), union-member tags dropped."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif str(part).isidentifier() and part != "str":
            path += f".{part}" if path else str(part)
    if msg.startswith("Value error, ["):  # an item index reported by a list validator
        path += msg[len("Value error, "):msg.index("]") + 1]
    return path or "body"


def _message(msg: str) -> str:
    text = msg.removeprefix("Value error, ")
    return text.split("] ", 1)[1] if text.startswith("[") and "] " in text else text


def parse_report(data: Any) -> Report:
    """A checked report from decoded JSON; InvalidInput naming every bad field."""
    if not isinstance(data, dict):
        raise InvalidInput("a report must be a JSON object", ["body"])
    try:
        report = Report.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        fields = [_field(tuple(e["loc"]), e["msg"]) for e in errors]
        detail = "; ".join(f"{f}: {_message(e['msg'])}" for f, e in zip(fields, errors, strict=True))
        raise InvalidInput(detail, list(dict.fromkeys(fields))) from None
    _cross_checks(report)
    return report


def _cross_checks(report: Report) -> None:
    if report.vector == "phishing" and report.channel is None:
        raise InvalidInput("channel: a phishing report needs the channel "
                           f"({', '.join(CHANNELS)})", ["channel"])
    if report.deepfake_media and report.vector != "identity-fraud":
        raise InvalidInput("deepfake_media: only for vector identity-fraud", ["deepfake_media"])
    first, last = report.first_seen, report.last_seen
    if first and last and last < first:
        raise InvalidInput("last_seen is before first_seen", ["last_seen"])
    if report.level is TLP.RED and not report.audience:
        raise InvalidInput("TLP:RED needs the recipient organisations named in audience",
                           ["audience"])


def when_us(moment: datetime | None) -> int | None:
    """A timestamp as microseconds since the epoch."""
    if moment is None:
        return None
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond
