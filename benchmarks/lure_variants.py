"""Real scam SMS and AI-style variants of them, for the lure benchmarks.

The messages come from ``../shared/data/sms`` (never shipped). Variants imitate what an LLM
asked to personalise and localise a lure does: a greeting with the victim's name, other
amounts, codes and links, a few words swapped for synonyms, clauses reordered, plus the
evasion tricks seen in the wild: homoglyphs and zero-width characters. The synonym lists
and translations are hand-written for this benchmark (by the engineer, not by native
speakers); homoglyphs are a small hand-picked Cyrillic/Greek set, independent of the
Unicode confusables table the normaliser uses.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Callable
from pathlib import Path

SMS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "sms"
LANGUAGES = ("th", "id", "ph", "en")


def load_scams(root: Path = SMS) -> dict[str, list[str]]:
    """Scam/spam messages per set: th (scam+spam), id (fraud, label 1), ph (all), en (spam)."""
    if not root.is_dir():
        raise FileNotFoundError(f"SMS data not found at {root} (see shared/data/README.md)")
    out: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    for path in sorted((root / "th-sms-sivakorn" / "raw_data").glob("*.txt")):
        for line in path.read_text("utf-8").splitlines():
            label, _, text = line.partition("|")
            if label in ("scam", "spam") and text.strip():
                out["th"].append(text.strip())
    with (root / "id-sms-spam-wibisono" / "dataset_sms_spam_v1.csv").open(encoding="utf-8") as f:
        out["id"] = [r["teks"].strip() for r in csv.DictReader(f) if r["label"] == "1"]
    with (root / "ph-spam-sms-bwandowando" / "SPAM_SMS.csv").open(encoding="utf-8") as f:
        out["ph"] = [r["text"].strip() for r in csv.DictReader(f) if r["text"].strip()]
    tsv = root / "en-uci-sms-spam-collection" / "SMSSpamCollection.tsv"
    for line in tsv.read_text("utf-8").splitlines()[1:]:
        label, _, text = line.partition("\t")
        if label == "spam":
            out["en"].append(text.strip())
    return out


NAMES = {
    "th": ["คุณสมชาย ใจดี", "คุณวิภา", "คุณอนันต์"],
    "id": ["Budi Santoso", "Siti Rahayu", "Agus"],
    "ph": ["Maria Santos", "Juan Dela Cruz", "Jose"],
    "en": ["Wei Ling Tan", "John Smith", "Priya"],
}
GREETINGS = {
    "th": ["เรียน{n} ", "สวัสดี{n} "],
    "id": ["Kak {n}, ", "Yth. Bapak {n}, ", "Halo {n}! "],
    "ph": ["Hi {n}! ", "Dear {n}, ", "Hello po {n}, "],
    "en": ["Dear {n}, ", "Hi {n}, ", "Hello {n}! "],
}
SYNONYMS: dict[str, dict[str, list[str]]] = {
    "en": {
        "win": ["earn", "get"], "won": ["earned", "received"], "prize": ["reward", "award"],
        "claim": ["collect", "redeem"], "free": ["complimentary", "no-cost"],
        "call": ["ring", "phone"], "now": ["today", "immediately"], "urgent": ["important"],
        "customer": ["subscriber", "client"], "mobile": ["phone", "handset"],
        "text": ["send", "sms"], "reply": ["respond", "answer"], "cash": ["money"],
        "selected": ["chosen", "picked"], "guaranteed": ["assured"], "receive": ["get"],
        "please": ["pls", "kindly"], "latest": ["newest"], "award": ["prize"],
    },
    "id": {
        "anda": ["kamu", "saudara"], "hadiah": ["bonus", "hadiah utama"],
        "hubungi": ["kontak", "telp"], "hub": ["kontak", "tlp"], "segera": ["cepat", "buruan"],
        "info": ["informasi", "keterangan"], "uang": ["dana"], "pinjaman": ["kredit"],
        "kirim": ["sms", "krm"], "dengan": ["dgn"], "yang": ["yg"], "untuk": ["utk"],
        "mendapatkan": ["memperoleh", "dapat"], "pemenang": ["juara"], "cek": ["cheque"],
        "terpilih": ["dipilih"], "selamat": ["slmt", "selamat ya"], "tidak": ["tdk", "nggak"],
    },
    "ph": {
        "bonus": ["regalo", "bonus gift"], "libre": ["free"], "free": ["libre"],
        "ngayon": ["agad", "now na"], "panalo": ["premyo"], "manalo": ["magwagi"],
        "deposit": ["deposito"], "register": ["mag-sign up"], "claim": ["kunin"],
        "ka": ["kayo"], "mo": ["ninyo"], "win": ["manalo"], "get": ["makakuha"],
        "click": ["pindutin"], "cash": ["pera"], "download": ["i-download"],
    },
    "th": {
        "รับ": ["ได้รับ"], "ฟรี": ["แจกฟรี"], "สมัคร": ["ลงทะเบียน"], "คลิก": ["กด"],
        "เงิน": ["เงินสด"], "ทันที": ["เดี๋ยวนี้"], "โบนัส": ["รางวัล"], "ลูกค้า": ["สมาชิก"],
        "ด่วน": ["รีบ"], "ยืนยัน": ["ตรวจสอบ"], "บัญชี": ["แอคเคาท์"], "สูงสุด": ["มากที่สุด"],
        "ฝาก": ["เติม"], "ถอน": ["เบิก"], "ติดต่อ": ["สอบถาม"], "เว็บ": ["เว็บไซต์"],
    },
}
HOMOGLYPHS = {"a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "i": "і",
              "s": "ѕ", "B": "В", "H": "Н", "K": "К", "M": "М", "T": "Т", "A": "Α", "O": "Ο",
              "E": "Ε", "P": "Р", "C": "С", "l": "ӏ", "j": "ј", "v": "ν"}
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\u200e", "\ufeff"]
_URLISH = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b(?:/\S*)?",
                     re.IGNORECASE)
_DIGITS = re.compile(r"\d+")


def personalise(text: str, lang: str, rng: random.Random) -> str:
    """Greeting with a name, other amounts/codes, another link."""
    text = _DIGITS.sub(lambda m: "".join(rng.choice("0123456789") for _ in m.group(0)), text)
    text = _URLISH.sub(lambda m: f"https://{rng.choice(['bit.ly', 's.id', 'cutt.ly'])}/"
                       f"{rng.randrange(16**6):06x}", text)
    name = rng.choice(NAMES[lang])
    return rng.choice(GREETINGS[lang]).format(n=name) + text


def synonyms(text: str, lang: str, rng: random.Random, max_swaps: int = 4) -> str:
    """Swap up to ``max_swaps`` words for hand-listed synonyms."""
    table = SYNONYMS[lang]
    if lang == "th":  # no spaces: replace substrings
        keys = [k for k in table if k in text]
        rng.shuffle(keys)
        for k in keys[:max_swaps]:
            text = text.replace(k, rng.choice(table[k]), 1)
        return text
    words = re.split(r"(\W+)", text)
    slots = [i for i, w in enumerate(words) if w.lower() in table]
    rng.shuffle(slots)
    for i in slots[:max_swaps]:
        words[i] = rng.choice(table[words[i].lower()])
    return "".join(words)


def homoglyphs(text: str, rng: random.Random, share: float = 0.3) -> str:
    """Replace a share of the Latin letters that have a Cyrillic/Greek look-alike."""
    return "".join(HOMOGLYPHS[c] if c in HOMOGLYPHS and rng.random() < share else c
                   for c in text)


def zero_width(text: str, rng: random.Random, share: float = 0.08) -> str:
    """Insert invisible characters at a share of positions."""
    out = []
    for c in text:
        out.append(c)
        if rng.random() < share:
            out.append(rng.choice(INVISIBLE))
    return "".join(out)


def reorder(text: str, rng: random.Random) -> str:
    """Shuffle sentences; a one-sentence message has its clauses shuffled instead."""
    parts = [p for p in re.split(r"(?<=[.!?])\s+|\n+", text) if p.strip()]
    sep = " "
    if len(parts) < 2:
        parts = [p for p in re.split(r",\s*|\s{1,}", text) if p.strip()]
        sep = ", " if "," in text else " "
        if len(parts) > 4:  # clause-sized chunks, not single words
            size = max(2, len(parts) // 3)
            parts = [" ".join(parts[i:i + size]) for i in range(0, len(parts), size)]
    if len(parts) < 2:
        return text
    order = list(range(len(parts)))
    while order == sorted(order):
        rng.shuffle(order)
    return sep.join(parts[i] for i in order)


def ai_rewrite(text: str, lang: str, rng: random.Random) -> str:
    """All of it at once: what a localising LLM plus an evasion step produce."""
    text = reorder(synonyms(personalise(text, lang, rng), lang, rng), rng)
    return zero_width(homoglyphs(text, rng, 0.2), rng, 0.05)


VARIANTS: dict[str, Callable[[str, str, random.Random], str]] = {
    "personalise": personalise,
    "synonyms": synonyms,
    "homoglyphs": lambda t, _lang, rng: homoglyphs(t, rng),
    "zero_width": lambda t, _lang, rng: zero_width(t, rng),
    "reorder": lambda t, _lang, rng: reorder(t, rng),
    "ai_rewrite": ai_rewrite,
}

#: (set, original as in the data, language of the translation, hand-written translation).
TRANSLATIONS = [
    ("th", "คุณได้รับสิทธิ์สินเชื่อK-PLUS 65,000บ.ติดต่อ:rb.gy/x76tp8", "en",
     "You have been granted a K-PLUS loan of 65,000 baht. Contact: rb.gy/x76tp8"),
    ("th", "คุณได้รับสิทธิ์สินเชื่อK-PLUS 65,000บ.ติดต่อ:rb.gy/x76tp8", "id",
     "Anda berhak mendapatkan pinjaman K-PLUS sebesar 65.000 baht. Hubungi: rb.gy/x76tp8"),
    ("th", "ด่วนต้องการเงินช่วยเหลือ ผู้ประสบภัยธรรมชาติ โอนได้ที่ บัญชีธนาคารกรุงเทพ 9032903293",
     "en", "Urgent: victims of a natural disaster need financial help. Transfer to Bangkok "
     "Bank account 9032903293"),
    ("th", "รับโบนัส100%พร้อมฟรีสปิน bit.ly/3uImqu1", "en",
     "Get a 100% bonus plus free spins bit.ly/3uImqu1"),
    ("th", "ยินดีด้วยลูกค้าถูก ลอตเตอรี่ เลขท้าย 2 ตัว จำนวน 2 ใบ ติดต่อทางpageได้", "en",
     "Congratulations, customer: you won the lottery, last 2 digits, 2 tickets. Contact us "
     "through our page."),
    ("id", "plg yth no. Anda terpilih menang cek Rp.100jt dr PT.TELKOMSEL HUT TELKOMSEL Ke-17 "
     "thn 2012 hub call center:085313311113", "en",
     "Dear customer, your number has been selected to win a cheque of Rp 100 million from "
     "PT Telkomsel for Telkomsel's 17th anniversary in 2012. Call the call centre: 085313311113"),
    ("id", "plg yth no. Anda terpilih menang cek Rp.100jt dr PT.TELKOMSEL HUT TELKOMSEL Ke-17 "
     "thn 2012 hub call center:085313311113", "th",
     "เรียนลูกค้า หมายเลขของคุณได้รับเลือกให้รับเช็คมูลค่า 100 ล้านรูเปียห์ จาก PT Telkomsel "
     "ในวันครบรอบ 17 ปี ปี 2012 ติดต่อคอลเซ็นเตอร์ 085313311113"),
    ("id", "Ini bpk tolong belikan dulu pulsa 20ribu di no barunya bpk karna lagi ada masalah di "
     "kantor polisi dan jangan dulu tlp/sms nanti bpk yg tlp, penting.", "en",
     "This is Dad, please buy 20 thousand of phone credit for Dad's new number first because "
     "I'm in trouble at the police station, and don't call or text yet, Dad will call, "
     "it's important."),
    ("en", "URGENT! Your mobile No 077xxx WON a £2,000 Bonus Caller Prize on 02/06/03! This is "
     "the 2nd attempt to reach YOU! Call 09066362206 ASAP! BOX97N7QP, 150ppm", "id",
     "PENTING! Nomor ponsel Anda 077xxx MEMENANGKAN Hadiah Bonus Penelepon £2.000 pada "
     "02/06/03! Ini adalah upaya kedua untuk menghubungi ANDA! Segera telepon 09066362206! "
     "BOX97N7QP, 150ppm"),
    ("en", "URGENT! Your mobile No 077xxx WON a £2,000 Bonus Caller Prize on 02/06/03! This is "
     "the 2nd attempt to reach YOU! Call 09066362206 ASAP! BOX97N7QP, 150ppm", "tl",
     "URGENT! Ang mobile number mo 077xxx ay NANALO ng £2,000 Bonus Caller Prize noong "
     "02/06/03! Ito na ang ikalawang pagtatangka na makontak KA! Tumawag sa 09066362206 agad! "
     "BOX97N7QP, 150ppm"),
    ("en", "Please CALL 08712402972 immediately as there is an urgent message waiting for you",
     "id", "Harap SEGERA TELEPON 08712402972 karena ada pesan penting yang menunggu Anda"),
    ("en", "Please CALL 08712402972 immediately as there is an urgent message waiting for you",
     "th", "กรุณาโทร 08712402972 ทันที เนื่องจากมีข้อความด่วนรอคุณอยู่"),
    ("en", "YOU ARE CHOSEN TO RECEIVE A £350 AWARD! Pls call claim number 09066364311 to "
     "collect your award which you are selected to receive as a valued mobile customer.", "tl",
     "IKAW ANG NAPILING TUMANGGAP NG £350 NA GANTIMPALA! Pakitawagan ang claim number "
     "09066364311 para makuha ang gantimpala mo na napili kang tumanggap bilang "
     "pinahahalagahang mobile customer."),
    ("ph", "Bibigyan ka ng MAYA ng 100% na bonus sa iyong unang deposito\n177bets.xyz", "en",
     "MAYA will give you a 100% bonus on your first deposit 177bets.xyz"),
    ("ph", "Bibigyan ka ng MAYA ng 100% na bonus sa iyong unang deposito\n177bets.xyz", "th",
     "MAYA จะให้โบนัส 100% สำหรับการฝากเงินครั้งแรกของคุณ 177bets.xyz"),
    ("ph", "Binabati kita! Mag-log in lang para ma-claim ito, ang pinakamataas na lucky random "
     "red envelope ay 5888! http://asias.poker", "en",
     "Congratulations! Just log in to claim it, the highest lucky random red envelope is 5888! "
     "http://asias.poker"),
    ("ph", "Binabati kita! Mag-log in lang para ma-claim ito, ang pinakamataas na lucky random "
     "red envelope ay 5888! http://asias.poker", "id",
     "Selamat! Cukup login untuk mengklaimnya, amplop merah keberuntungan acak tertinggi "
     "adalah 5888! http://asias.poker"),
]
