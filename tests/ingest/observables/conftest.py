"""Fixtures for the observable tests: the real SMS sets beside the checkout."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

SMS_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "sms"


@pytest.fixture(scope="session")
def sms_dir() -> Path:
    """../shared/data/sms; skipped when absent, a failure when CI=true."""
    if not SMS_DIR.is_dir():
        message = f"real SMS data not found at {SMS_DIR.resolve()}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return SMS_DIR


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
