"""Observables a person would mark in real scam SMS (Thai, Indonesian, Tagalog/English).

Each case finds one message in ../shared/data/sms by a fragment of it and lists, written by
hand after reading the message, every URL, domain and phone number in it.
"""

from __future__ import annotations

import pytest

from bayanihan.ingest.observables import extract

# (set, fragment identifying the message, country, expected (kind, value) in order)
CASES = [
    (
        "th",
        "b76kk.com โปรมๅllรงฝาn2o",
        "TH",
        [("domain-name", "b76kk.com"), ("url", "https://lin.ee/VojKAp2")],
    ),
    ("th", "ไม่ต้องแชร์bit.ly/3LkSH0X", "TH", [("url", "http://bit.ly/3LkSH0X")]),
    ("th", "สมาชิกใหม่https://bit.ly/31ZfH4C", "TH", [("url", "https://bit.ly/31ZfH4C")]),
    ("th", "https://rrj.nu/F_woE7yA /ยกเลิก", "TH", [("url", "https://rrj.nu/F_woE7yA")]),
    (
        "th",
        "092-7899885 Line",
        "TH",
        [("phone-number", "+66927899885"), ("url", "http://line.me/ti/p/~Kirtsadass")],
    ),
    ("th", "dtac.co.th/s/gotv", "TH", [("url", "http://dtac.co.th/s/gotv"), ("phone-number", "+6622028100")]),
    (
        "th",
        "cook2host.com/i/hHjVRj5c908c",
        "TH",
        [("phone-number", "+66819283918"), ("url", "http://cook2host.com/i/hHjVRj5c908c")],
    ),
    ("th", "pingvibeer789", "TH", [("phone-number", "+66922384987")]),
    ("th", "คลิกhttps://ct.elinks.io/Jbcjhmwi", "TH", [("url", "https://ct.elinks.io/Jbcjhmwi")]),
    (
        "id",
        "ATY 082134976289(wa)/087888869297",
        "ID",
        [("phone-number", "+6282134976289"), ("phone-number", "+6287888869297")],
    ),
    ("id", "www.jayabet4.com ,", "ID", [("url", "http://www.jayabet4.com/")]),
    ("id", "Facebook:http://fb.com/l.1lnzH4p0lCM7ruG", "ID", [("url", "http://fb.com/l.1lnzH4p0lCM7ruG")]),
    (
        "id",
        "live.vipgames.me/?sid=40186483",
        "ID",
        [("url", "http://live.vipgames.me/?sid=40186483"), ("phone-number", "+622152971540")],
    ),
    ("id", "dari no 08968594", "ID", []),  # the number is masked: nothing to mark
    ("tl", "www.777pub.pub/?agentid=10007604", "PH", [("url", "https://www.777pub.pub/?agentid=10007604")]),
    ("tl", "Gcash: 09661354022", "PH", [("phone-number", "+639661354022")]),
    ("tl", "luck5.auction/bTrW", "PH", [("url", "http://luck5.auction/bTrW")]),
    ("tl", "winph.tv/fsLqAU Maglaro", "PH", [("url", "http://winph.tv/fsLqAU")]),
    ("tl", "wingoph.com", "PH", [("domain-name", "wingoph.com")]),
    ("tl", "ng apo ko +63951****723", "PH", []),  # masked sender number
]


def _message(sms_sets: dict[str, list[str]], name: str, fragment: str) -> str:
    found = [text for text in sms_sets[name] if fragment in text]
    assert found, f"no message containing {fragment!r} in the {name} set"
    return found[0]


@pytest.mark.parametrize(("name", "fragment", "country", "expected"), CASES)
def test_marks_what_a_person_would_mark(
    sms_sets: dict[str, list[str]],
    name: str,
    fragment: str,
    country: str,
    expected: list[tuple[str, str]],
) -> None:
    text = _message(sms_sets, name, fragment)
    found = extract(text, country)
    assert [(o.kind, o.value) for o in found] == expected
    for observable in found:
        assert text[observable.span[0] : observable.span[1]] == observable.text


@pytest.mark.xfail(strict=True, reason="'1OO' (obfuscated 100) glued to bit.ly reads as a host")
def test_digits_glued_to_a_shortener(sms_sets: dict[str, list[str]]) -> None:
    text = _message(sms_sets, "th", "1OObit.ly/3qCniiy")
    assert [o.value for o in extract(text, "TH")] == ["http://bit.ly/3qCniiy"]


@pytest.mark.slow
def test_whole_sets_extract_without_error(sms_sets: dict[str, list[str]]) -> None:
    """Every real message goes through; the Thai scam links are nearly all found."""
    for name, country in (("th", "TH"), ("id", "ID"), ("tl", "PH"), ("ph-en", "PH"), ("en", "SG")):
        for text in sms_sets[name]:
            extract(text, country)
    with_link = [t for t in sms_sets["th"] if "bit.ly/" in t]
    found = [t for t in with_link if any("bit.ly/" in o.value for o in extract(t, "TH"))]
    assert len(found) >= 0.97 * len(with_link)
