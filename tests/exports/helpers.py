"""Reports for the export and check tests: a phishing campaign with every kind of value."""

from __future__ import annotations

from typing import Any

import httpx

SHA = "5d41402abc4b2a76b9719d911017c592aa5d41402abc4b2a76b9719d911017c5"


def report(title: str, observables: list[str], tlp: str = "green",
           audience: list[str] | None = None, countries: tuple[str, ...] = ("TH",),
           lures: tuple[str, ...] = ()) -> dict[str, Any]:
    body: dict[str, Any] = {
        "vector": "phishing", "channel": "sms", "title": title,
        "narrative": "SMS lures sent to bank customers.", "observables": observables,
        "countries": list(countries), "tlp": tlp, "lures": list(lures),
        "ai_involvement": {"assessment": "suspected", "confidence": 60},
    }
    if audience is not None:
        body["audience"] = audience
    return body


def post(client: httpx.Client, body: dict[str, Any]) -> str:
    r = client.post("/api/v1/reports", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def export(client: httpx.Client, fmt: str, **params: str) -> httpx.Response:
    r = client.get(f"/api/v1/exports/{fmt}", params=params)
    assert r.status_code == 200, r.text
    return r


def values(text: str) -> set[str]:
    return {line for line in text.splitlines() if line and not line.startswith("#")}
