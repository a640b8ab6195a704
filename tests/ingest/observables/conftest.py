"""Fixtures for the observable tests: the real SMS sets beside the checkout."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sms_dir(shared_data: Path) -> Path:
    """../shared/data/sms; skipped when absent, a failure when CI=true."""
    return shared_data / "sms"


def _thai(root: Path) -> list[str]:
    texts: list[str] = []
    for path in sorted((root / "th-sms-sivakorn" / "raw_data").glob("*.txt")):
        texts.extend(line.partition("|")[2] for line in path.read_text("utf-8").splitlines())
    return list(dict.fromkeys(t for t in texts if t))


def _csv_column(path: Path, column: str) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [row[column] for row in csv.DictReader(handle)]


@pytest.fixture(scope="session")
def sms_sets(sms_dir: Path) -> dict[str, list[str]]:
    """Texts per set: th, id, tl (author's Tagalog split), ph-en, en (UCI)."""
    ph = sms_dir / "ph-spam-sms-bwandowando"
    uci = (sms_dir / "en-uci-sms-spam-collection" / "SMSSpamCollection.tsv").read_text("utf-8")
    return {
        "th": _thai(sms_dir),
        "id": _csv_column(sms_dir / "id-sms-spam-wibisono" / "dataset_sms_spam_v1.csv", "teks"),
        "tl": _csv_column(ph / "tagalog_texts1.csv", "text"),
        "ph-en": _csv_column(ph / "english_texts1.csv", "text"),
        "en": [line.partition("\t")[2] for line in uci.splitlines()[1:]],
    }
