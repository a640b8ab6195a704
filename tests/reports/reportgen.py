"""Varied, valid report documents for tests (deterministic for a seed)."""

from __future__ import annotations

import random
from typing import Any

#: Observables by kind, as an analyst would paste them (defanged, local phone formats).
OBSERVABLES: dict[str, list[str]] = {
    "url": ["hxxps://scb-verify[.]com/th/login", "http://bit[.]ly/3pDp2ry",
            "https://kbank-secure.net/update?id=7", "hxxp://bca-promo[.]xyz/klaim"],
    "domain": ["gcash-rewards[.]ph", "vietcombank-otp.top", "maybank2u-secure[.]com"],
    "ip": ["45.77.12.9", "103.21.244[.]7", "2001:db8:85a3::8a2e:370:7334"],
    "email": ["support@scb-verify[.]com", "hr.recruit[@]central-jobs.asia"],
    "hash": ["44d88612fea8a8f36de82e1278abb02f", "3395856ce81f2b7382dee72602f798b642f14140",
             "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"],
    "wallet": ["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
               "0x52908400098527886E0F7030069857D2E4169EE7",
               "TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW",
               "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"],
}
#: (country, local phone number, lure text in the country's language)
LURES: list[tuple[str, str, str, str]] = [
    ("TH", "081-234-5678", "th", "ธนาคารแจ้ง บัญชีของท่านถูกระงับชั่วคราว กรุณายืนยันตัวตนทันที"),
    ("ID", "0812-3456-7890", "id", "Selamat! Anda memenangkan hadiah undian, segera klaim hadiah"),
    ("PH", "0917 123 4567", "tl", "Ikaw ay nanalo ng premyo, i-click ang link para makuha ito"),
    ("VN", "0912 345 678", "vi", "Tài khoản ngân hàng của bạn đã bị khóa, vui lòng xác minh ngay"),
    ("MY", "012-345 6789", "ms", "Akaun bank anda telah disekat, sila sahkan segera untuk elak"),
    ("SG", "9123 4567", "en", "Your parcel could not be delivered, please update your address"),
]
CHANNELS = ["email", "sms", "voice", "chat", "social"]
TLPS = ["clear", "green", "amber", "amber+strict", "red"]
TECHNIQUES = ["AML.T0052", "AML.T0088", "AML.T0051", "AML.T0048", "T1566"]
SECTORS = ["financial-services", "government-national", "telecommunications", "retail",
           "healthcare"]


def report(n: int, *, seed: int | None = None, **overrides: Any) -> dict[str, Any]:
    """The ``n``-th varied report: every vector, channel, TLP and observable kind in turn."""
    rnd = random.Random(seed if seed is not None else n)
    country, phone, lang, lure = LURES[n % len(LURES)]
    vector = ["phishing", "malware", "identity-fraud", "reconnaissance", "other"][n % 5]
    kinds = rnd.sample(sorted(OBSERVABLES), k=1 + n % 4)
    observables = " ; ".join(rnd.choice(OBSERVABLES[k]) for k in kinds)
    doc: dict[str, Any] = {
        "vector": vector,
        "title": f"Report {n}: {vector} wave against {country}",
        "narrative": f"Observed {vector} campaign number {n}; wording fluent and localised.",
        "first_seen": f"2026-11-{1 + n % 20:02d}T08:{n % 60:02d}:00Z",
        "last_seen": f"2026-11-{2 + n % 20:02d}T09:00:00+07:00",
        "ai_involvement": {
            "assessment": ["confirmed", "suspected", "unknown"][n % 3],
            "confidence": (n * 7) % 101,
            "evidence": "Same lure in many languages within minutes; no spelling mistakes.",
            "techniques": rnd.sample(TECHNIQUES, k=n % 3),
        },
        "lures": [f"{lure} {phone} {rnd.choice(OBSERVABLES['url'])}"] if n % 4 else [],
        "observables": observables,
        "countries": [country, *(["KH"] if n % 3 == 0 else [])],
        "sectors": rnd.sample(SECTORS, k=n % 3),
        "languages": [lang] if n % 2 else [],
        "tlp": TLPS[n % 5],
    }
    if vector == "phishing":
        doc["channel"] = CHANNELS[(n // 5) % 5]
    elif n % 2:
        doc["channel"] = CHANNELS[n % 5]
    if vector == "identity-fraud":
        doc["deepfake_media"] = [["audio"], ["video"], ["image", "video"]][n % 3]
    if doc["tlp"] in ("red", "amber+strict") or n % 7 == 0:
        doc["audience"] = ["TH", "SG", country]
    doc.update(overrides)
    return doc
