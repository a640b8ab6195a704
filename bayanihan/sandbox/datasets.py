"""Loaders that turn the real public SMS sets (kept outside the package) into suites.

The data is never shipped: tests and benchmarks pass the folder ``../shared/data/sms``.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from .errors import SandboxError
from .suite import Case, Suite


def _id(prefix: str, text: str) -> str:
    return f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _need(path: Path) -> Path:
    if not path.exists():
        raise SandboxError(str(path), "data set not found")
    return path


def uci_english(root: Path) -> Suite:
    """UCI SMS Spam Collection: ham/spam, English (many Singaporean senders)."""
    path = _need(Path(root) / "en-uci-sms-spam-collection" / "SMSSpamCollection.tsv")
    cases: dict[str, Case] = {}
    with path.open(encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            label, _, text = line.rstrip("\n").partition("\t")
            cid = _id("uci", text)
            cases.setdefault(cid, Case(cid, label, text=text, language="en", country="SG",
                                       channel="sms", source="uci-sms-spam-collection"))
    return Suite("en-uci-sms", "text", tuple(cases.values()), positive=("spam",))


def philippine(root: Path, ham: Suite | None = None) -> Suite:
    """Philippine scam SMS (all positive; language from the repo author's split), plus
    ``ham`` test cases from another suite as negatives. Everything is in the test split."""
    folder = _need(Path(root) / "ph-spam-sms-bwandowando")
    cases: dict[str, Case] = {}
    for name, lang in (("tagalog_texts1.csv", "tl"), ("english_texts1.csv", "en")):
        with (folder / name).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                text = row["text"].strip()
                cid = _id("ph", text)
                cases.setdefault(cid, Case(cid, "spam", text=text, language=lang, country="PH",
                                           channel="sms", source="bwandowando-ph-spam",
                                           split="test"))
    if ham is not None:
        for case in ham.select("test"):
            if case.label not in ham.positive:
                cases.setdefault(case.id, Case(case.id, "ham", text=case.text,
                                               language=case.language, country=case.country,
                                               channel="sms", source=case.source, split="test"))
    return Suite("ph-sms", "text", tuple(cases.values()), positive=("spam",))


def thai(root: Path) -> Suite:
    """Thai SMS, four classes (OK, OTP, spam, scam); texts with conflicting labels dropped."""
    folder = _need(Path(root) / "th-sms-sivakorn" / "raw_data")
    labels: dict[str, set[str]] = {}
    for path in sorted(folder.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            label, sep, text = line.partition("|")
            if sep and text.strip():
                labels.setdefault(text.strip(), set()).add(label.strip())
    cases = tuple(Case(_id("th", t), next(iter(ls)), text=t, language="th", country="TH",
                       channel="sms", source="sivakorn-thai-sms")
                  for t, ls in labels.items() if len(ls) == 1)
    return Suite("th-sms", "text", cases, positive=("spam", "scam"))


def indonesian(root: Path) -> Suite:
    """Indonesian SMS: 0 normal, 1 fraud, 2 promo (fraud and promo count as positive)."""
    path = _need(Path(root) / "id-sms-spam-wibisono" / "dataset_sms_spam_v1.csv")
    names = {"0": "normal", "1": "fraud", "2": "promo"}
    cases: dict[str, Case] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            text = row["teks"].strip()
            cid = _id("id", text)
            cases.setdefault(cid, Case(cid, names[row["label"].strip()], text=text,
                                       language="id", country="ID", channel="sms",
                                       source="wibisono-id-sms"))
    return Suite("id-sms", "text", tuple(cases.values()), positive=("fraud", "promo"))
