"""extract(): typed, de-duplicated observables with spans into the text as written."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayanihan.ingest.observables import ObservableError, defang, extract

MIXED = (
    "โอนด่วนที่ 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed หรือ USDT TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
    " คลิกhxxps://pаypal[.]com/login?next=%7e โทร081-234-5678 อีเมล support[@]pаypal(.)com"
    " C2 10.0.0.7/24 และ 2001:DB8:0::1 ไฟล์ md5 D41D8CD98F00B204E9800998ECF8427E"
    " bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq ซ้ำ hxxps://pаypal[.]com/login?next=~"
)


def test_every_kind_from_one_thai_lure() -> None:
    found = extract(MIXED, "TH")
    kinds = [(o.kind, o.value) for o in found]
    assert kinds == [
        ("crypto-wallet", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
        ("crypto-wallet", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
        ("url", "https://xn--pypal-4ve.com/login?next=~"),
        ("phone-number", "+66812345678"),
        ("email-addr", "support@xn--pypal-4ve.com"),
        ("ipv4-addr", "10.0.0.0/24"),
        ("ipv6-addr", "2001:db8::1"),
        ("file-hash", "d41d8cd98f00b204e9800998ecf8427e"),
        ("crypto-wallet", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
    ]
    url = found[2]
    assert url.text == "hxxps://pаypal[.]com/login?next=%7e"  # as written, first occurrence
    assert MIXED[url.span[0] : url.span[1]] == url.text
    assert url.get("skeleton") == "paypal.com"  # ASCII letters never fold (no m -> rn)
    assert url.get("unicode") == "pаypal.com"
    assert url.get("registered_domain") == "xn--pypal-4ve.com"
    assert found[0].get("eip55") == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    assert found[3].get("region") == "TH"


def test_country_decides_local_phone_numbers() -> None:
    assert extract("call 0917 123 4567", "PH")[0].value == "+639171234567"
    assert extract("call 0917 123 4567", None) == []
    assert extract("call +63 917 123 4567", None)[0].value == "+639171234567"
    with pytest.raises(ObservableError, match="country"):
        extract("call 0917 123 4567", "ZZZ")


def test_digits_inside_links_are_not_phone_numbers() -> None:
    found = extract("ลงทะเบียน www.indogetjob.com/085233334106 วันนี้", "ID")
    assert [o.kind for o in found] == ["url"]


def test_no_false_observables_in_plain_text() -> None:
    text = (
        "Promo sd 30 Nov 2015.Buruan aktifkan! Rp.50.000 s.d 31 Mei, jam 10:30:45, "
        "harga 1,099 บาท 15,000-30,000 ver 1.2.3 invoice.zip terbatas.Info "
        "SMS No.PIN Pemenang, dari PT.HM SAMPOERNA, Ref:763179369.GRATIS PULSA"
    )
    assert extract(text, "ID") == []


def test_invisible_characters_do_not_break_links() -> None:
    text = "คลิก\u200bbit.\u200bly/3a\u00adbc ok"
    (url,) = extract(text, "TH")
    assert url.value == "http://bit.ly/3abc"
    assert url.text == "bit.\u200bly/3a\u00adbc"


def test_bad_input_is_named() -> None:
    with pytest.raises(ObservableError, match="expected a string"):
        extract(b"bytes", "TH")  # type: ignore[arg-type]


@settings(max_examples=200)
@given(st.text())
def test_extract_never_crashes(text: str) -> None:
    for observable in extract(text, "TH"):
        assert text[observable.span[0] : observable.span[1]] == observable.text


NETWORK = st.sampled_from(
    [
        "https://bit.ly/3LkSH0X",
        "http://evil.example.co.th/a?b=c",
        "www.jayabet4.com/x",
        "scam@evil-mail.com",
        "203.0.113.9",
        "lin.ee/VojKAp2",
    ]
)
FILLER = st.sampled_from([" ", " คลิก ", " โทร ", ", see ", "\n", " ກົດ "])


@given(st.lists(st.tuples(FILLER, NETWORK), min_size=1, max_size=4))
def test_defanged_and_fanged_text_give_the_same_values(parts: list[tuple[str, str]]) -> None:
    fanged = "".join(f + i for f, i in parts)
    defanged = "".join(f + defang(i) for f, i in parts)
    assert [o.value for o in extract(defanged, "TH")] == [o.value for o in extract(fanged, "TH")]
    assert len(extract(fanged, "TH")) == len({i for _, i in parts})


def test_canonical_values_extract_to_themselves() -> None:
    for observable in extract(MIXED, "TH"):
        again = extract(observable.value, "TH")
        assert [(o.kind, o.value) for o in again] == [(observable.kind, observable.value)]
