"""Real scam SMS (Thai, Indonesian, Tagalog/English) as lure texts of reports."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bayanihan.ingest.observables import extract
from bayanihan.ingest.observables.stix import stix_pattern
from tests.conftest import RunningHub

PER_SET = 12


def _with_links(texts: list[str]) -> list[str]:
    """Unique texts holding at least one observable a person would mark (link, number…)."""
    out: list[str] = []
    for text in dict.fromkeys(t.strip() for t in texts):
        if text and extract(text) and len(out) < PER_SET:
            out.append(text)
    return out


def thai(shared: Path) -> list[str]:
    lines = (shared / "sms/th-sms-sivakorn/raw_data/scam.txt").read_text("utf-8").splitlines()
    return _with_links([line.split("|", 1)[1] for line in lines if line.startswith("scam|")])


def indonesian(shared: Path) -> list[str]:
    with (shared / "sms/id-sms-spam-wibisono/dataset_sms_spam_v1.csv").open(encoding="utf-8") as fh:
        return _with_links([row["teks"] for row in csv.DictReader(fh) if row["label"] == "1"])


def philippine(shared: Path) -> list[str]:
    with (shared / "sms/ph-spam-sms-bwandowando/SPAM_SMS.csv").open(encoding="utf-8") as fh:
        return _with_links([row["text"] for row in csv.DictReader(fh)])


SETS: dict[str, tuple[Callable[[Path], list[str]], str, set[str]]] = {
    "thai": (thai, "TH", {"th"}),
    "indonesian": (indonesian, "ID", {"id", "ms"}),
    "philippine": (philippine, "PH", {"tl", "en"}),
}


def test_real_sms_become_reports_with_their_observables(
        report_hub: Callable[..., RunningHub], shared_data: Path) -> None:
    rh = report_hub()
    for name, (load, country, languages) in SETS.items():
        texts = load(shared_data)
        assert len(texts) == PER_SET, f"too few {name} SMS with observables in the shared data"
        client = rh.client(country)
        doc: dict[str, Any] = {"vector": "phishing", "channel": "sms", "tlp": "green",
                               "title": f"{name} scam SMS", "lures": texts, "countries": [country]}
        r = client.post("/api/v1/reports", json=doc)
        assert r.status_code == 201, r.text
        bundle = client.get(f"/api/v1/reports/{r.json()['id']}").json()["objects"]
        patterns = {o["pattern"] for o in bundle if o["type"] == "indicator"}
        for text in texts:
            for obs in extract(text, country):
                assert stix_pattern(obs) in patterns, (text, obs.value)
        report = next(o for o in bundle if o["type"] == "report")
        lures = next(iter(report["extensions"].values()))["lure_fingerprints"]
        assert [entry["text"] for entry in lures] == texts
        found = [entry.get("language") for entry in lures]
        right = sum(code in languages for code in found)
        print(f"{name}: {right}/{len(found)} lures identified as {sorted(languages)}: {found}")
        assert right >= len(found) * 0.75, found
        for code in set(found) - {None}:
            listed = client.get("/api/v1/reports", params={"language": code, "country": country,
                                                            "q": texts[0].split()[0]}).json()
            assert [i["id"] for i in listed["reports"]] == [r.json()["id"]]
