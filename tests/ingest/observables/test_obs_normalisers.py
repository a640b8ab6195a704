"""Property tests for every normaliser: idempotent, total on arbitrary Unicode (either a
value or ObservableError, nothing else), and defanged input normalises like fanged input."""

from __future__ import annotations

import contextlib
import ipaddress

import base58
import bech32m
import phonenumbers
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from bayanihan.ingest.observables import (
    ObservableError,
    canonical_email,
    canonical_hash,
    canonical_ip,
    canonical_phone,
    canonical_url,
    canonical_wallet,
    defang,
    normalize_domain,
    refang,
    skeleton,
)
from bayanihan.ingest.observables.refang import refang_with_map
from bayanihan.ingest.observables.wallets import eip55

LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,12}[a-z0-9])?", fullmatch=True)
UNICODE_LABEL = st.sampled_from(["ตัวอย่าง", "пример", "bücher", "pаypal", "ví-dụ", "例子"])
SUFFIX = st.sampled_from(["com", "co.th", "go.id", "com.ph", "xn--o3cw4h", "ไทย", "gov.sg"])
DOMAIN = st.builds(
    lambda labels, suffix: ".".join([*labels, suffix]),
    st.lists(LABEL | UNICODE_LABEL, min_size=1, max_size=3),
    SUFFIX,
)
PATH = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="#?"), max_size=30)
URL = st.builds(
    lambda scheme, host, path, query: f"{scheme}://{host}/{path}" + (f"?{query}" if query else ""),
    st.sampled_from(["http", "https", "HTTPS", "ftp"]),
    DOMAIN,
    PATH,
    st.text(alphabet="abcxyz=&%20+ก", max_size=12),
)


def _total(function, text: str) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(ObservableError):
        function(text)


@given(st.text())
@example("hxxp[:]//a[.]b [[.]] (at) ．")
def test_refang_is_idempotent_and_maps_back(text: str) -> None:
    once = refang_with_map(text)
    assert refang(once.text) == once.text
    if once.source is not None:
        assert len(once.source) == len(once.text)
        assert list(once.source) == sorted(once.source)
        assert all(0 <= index < len(text) for index in once.source)


@given(st.text())
def test_normalisers_never_crash_on_arbitrary_unicode(text: str) -> None:
    for function in (
        canonical_url,
        normalize_domain,
        canonical_email,
        canonical_ip,
        canonical_hash,
        canonical_wallet,
        canonical_phone,
    ):
        _total(function, text)


@settings(max_examples=150)
@given(URL)
@example("HTTP://WWW.Example.COM:80/a/./b/../c%7e%2fx?q=%aa#frag")
@example("https://ตัวอย่าง.ไทย/ทดสอบ?x=ไทย")
def test_url_canonical_is_idempotent_and_defang_safe(url: str) -> None:
    try:
        canonical = canonical_url(url)
    except ObservableError:
        return
    assert canonical_url(canonical) == canonical
    assert canonical_url(defang(url)) == canonical
    assert canonical.isascii() and "#" not in canonical


def test_url_canonical_form() -> None:
    assert canonical_url("HTTP://WWW.Example.COM:80/a/./b/../c%7e%2fx?q=%aa#frag") == (
        "http://www.example.com/a/c~%2Fx?q=%AA"
    )
    assert canonical_url("hxxps://bit[.]ly/3abc") == "https://bit.ly/3abc"
    assert canonical_url("https://[2001:DB8::1]:443") == "https://[2001:db8::1]/"
    assert canonical_url("https://x.com:8443/") == "https://x.com:8443/"
    with pytest.raises(ObservableError, match="url"):
        canonical_url("javascript:alert(1)")


@settings(max_examples=150)
@given(DOMAIN)
def test_domain_forms_are_consistent(domain: str) -> None:
    try:
        forms = normalize_domain(domain)
    except ObservableError:
        return
    assert normalize_domain(forms.ascii) == forms
    assert normalize_domain(forms.unicode) == forms
    assert normalize_domain(defang(domain)) == forms
    assert skeleton(forms.skeleton) == forms.skeleton
    assert forms.ascii.isascii() and forms.ascii == forms.ascii.lower()


@given(st.text(max_size=20))
def test_skeleton_is_idempotent(text: str) -> None:
    assert skeleton(skeleton(text)) == skeleton(text)


def test_confusable_domains_share_a_skeleton() -> None:
    cyrillic = normalize_domain("p\u0430ypal.com")  # Cyrillic a
    latin = normalize_domain("PayPal.com")
    assert cyrillic.ascii == "xn--pypal-4ve.com" != latin.ascii
    assert cyrillic.skeleton == latin.skeleton
    # TR39's direction: an ASCII domain is its own skeleton (no m -> rn, no 0 -> o)
    assert normalize_domain("g00gle.com").skeleton == "g00gle.com"
    assert normalize_domain("paypal-verify.com").skeleton == "paypal-verify.com"
    assert normalize_domain("evil.com").skeleton != latin.skeleton
    assert normalize_domain("a.b.example.co.th").registered_domain == "example.co.th"
    assert normalize_domain("ตัวอย่าง.ไทย").ascii == "xn--72c1a1bt4awk9o.xn--o3cw4h"


@given(st.from_regex(r"[a-z0-9._+-]{1,20}", fullmatch=True), DOMAIN)
def test_email_canonical(local: str, domain: str) -> None:
    address = f"{local}@{domain.upper()}"
    try:
        canonical = canonical_email(address)
    except ObservableError:
        return
    assert canonical_email(canonical) == canonical
    assert canonical_email(address.replace("@", "[@]").replace(".", "[.]")) == canonical
    assert canonical.split("@")[1] == normalize_domain(domain).ascii


@given(st.ip_addresses(), st.booleans(), st.integers(0, 128))
def test_ip_canonical(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, upper: bool, prefix: int
) -> None:
    text = address.exploded.upper() if upper else str(address)
    value, kind = canonical_ip(text)
    assert value == address.compressed
    assert kind == ("ipv4-addr" if address.version == 4 else "ipv6-addr")
    assert canonical_ip(value) == (value, kind)
    if address.version == 4:
        assert canonical_ip(text.replace(".", "[.]")) == (value, kind)
    prefix = min(prefix, address.max_prefixlen)
    network, _ = canonical_ip(f"{text}/{prefix}")
    assert canonical_ip(network)[0] == network
    assert ipaddress.ip_address(address) in ipaddress.ip_network(network)


@given(st.sampled_from([16, 20, 32, 64]), st.binary(min_size=64, max_size=64), st.booleans())
def test_hex_hash_canonical(size: int, data: bytes, upper: bool) -> None:
    digest = data[:size].hex()
    assume(len(set(digest)) >= 4)
    value, name = canonical_hash(digest.upper() if upper else digest)
    assert value == digest
    assert name == {16: "MD5", 20: "SHA-1", 32: "SHA-256", 64: "SHA-512"}[size]
    assert canonical_hash(value) == (value, name)


def test_fuzzy_hashes() -> None:
    tlsh = "t1f7414ae14f23003f8d40864b6ce80d35d7a31a8a5a62e065abf05bbe730f3b20300a33"
    assert canonical_hash(tlsh) == (tlsh.upper(), "TLSH")
    assert canonical_hash("3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C")[1] == "SSDEEP"
    with pytest.raises(ObservableError, match="block size"):
        canonical_hash("5:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C")


@given(st.binary(min_size=20, max_size=20), st.sampled_from([0x00, 0x05, 0x41]))
def test_base58_wallets(payload: bytes, version: int) -> None:
    address = base58.b58encode_check(bytes([version]) + payload).decode()
    chain = "TRON" if version == 0x41 else "BTC"
    assert canonical_wallet(address) == (address, chain)
    broken = address[:-1] + ("1" if address[-1] != "1" else "2")
    with pytest.raises(ObservableError):
        canonical_wallet(broken)


@given(st.binary(min_size=20, max_size=20), st.sampled_from([0, 1]), st.booleans())
def test_bech32_wallets(program: bytes, version: int, upper: bool) -> None:
    program = program if version == 0 else program + bytes(12)
    address = bech32m.encode("bc", version, program)
    assert canonical_wallet(address.upper() if upper else address) == (address, "BTC")


@given(st.binary(min_size=20, max_size=20))
def test_eth_wallets(raw: bytes) -> None:
    lower = "0x" + raw.hex()
    checksummed = eip55(lower)
    assert canonical_wallet(checksummed) == (lower, "ETH")
    assert canonical_wallet(lower.upper().replace("0X", "0x")) == (lower, "ETH")
    flipped = checksummed[2:].swapcase()
    if flipped not in (flipped.lower(), flipped.upper()):  # mixed case: checksum applies
        with pytest.raises(ObservableError, match="EIP-55"):
            canonical_wallet("0x" + flipped)


@pytest.mark.parametrize("region", ["TH", "ID", "PH", "MY", "SG", "VN", "KH", "LA", "MM"])
@pytest.mark.parametrize(
    "kind", [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
)
def test_phone_formats_meet_in_e164(region: str, kind: int) -> None:
    number = phonenumbers.example_number_for_type(region, kind)
    assert number is not None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    spaced = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    assert canonical_phone(national, region) == e164
    assert canonical_phone(spaced, None) == e164
    assert canonical_phone(e164, "TH") == e164


def test_phone_errors_name_the_input() -> None:
    with pytest.raises(ObservableError, match="phone-number '12'"):
        canonical_phone("12", "TH")
    with pytest.raises(ObservableError, match="region"):
        canonical_phone("0812345678", "XX")
