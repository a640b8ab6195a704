"""Fixtures for message intake: messages in the shape a national reporting line sends."""

from __future__ import annotations

from typing import Any

LURE = ("ธนาคารแจ้ง บัญชีของท่านถูกระงับชั่วคราว กรุณายืนยันตัวตนภายใน 24 ชั่วโมงที่ "
        "https://scb-verify-th.com/login มิฉะนั้นบัญชีจะถูกปิดถาวร")
OTHER = ("Congratulations! Your number won 5,000,000 in the Lazada anniversary draw. "
         "Claim at http://lazada-prize-claim.net before midnight.")


def message(text: str = LURE, *, sender: str = "0812345678", country: str = "TH",
            received: str = "2026-11-20T08:00:00Z", **extra: Any) -> dict[str, Any]:
    return {"text": text, "channel": "sms", "sender": sender, "country": country,
            "received": received, **extra}
