"""Adversarial text variants that imitate what AI gives attackers; each seeded and reproducible.

A mutator takes the text and a ``random.Random`` seeded from (run seed, mutator, case id),
so a case's variant does not depend on which other cases are in the run. TextAttack was
not used: it requires torch, transformers, flair and tools that download resources at run
time, and its recipes search against a victim model (see docs/sandbox.md).
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable

Mutator = Callable[[str, random.Random], str]

CONFUSABLES = {
    "a": "а", "c": "с", "e": "е", "i": "і", "j": "ј", "o": "о", "p": "р", "s": "ѕ",
    "x": "х", "y": "у", "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "I": "І",
    "K": "К", "M": "М", "O": "О", "P": "Р", "T": "Т", "X": "Х", "l": "ӏ",
}
INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
BIDI = ("\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f")
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7", "g": "9", "b": "8"}
ENGLISH_FOR = {
    # Tagalog / Taglish
    "libre": "free", "panalo": "winner", "nanalo": "won", "pera": "money", "ngayon": "now",
    "premyo": "prize", "agad": "immediately", "bayad": "payment", "tulong": "help",
    # Malay / Indonesian
    "percuma": "free", "hadiah": "prize", "sekarang": "now", "klik": "click",
    "menang": "win", "gratis": "free", "wang": "money", "uang": "money", "segera": "urgent",
    "pinjaman": "loan", "akaun": "account", "rekening": "account",
    # Thai
    "ฟรี": "free", "รางวัล": "prize", "คลิก": "click", "ด่วน": "urgent", "เงิน": "money",
    "โบนัส": "bonus", "สมัคร": "register", "บัญชี": "account", "เครดิต": "credit",
}
ENGLISH_FILLERS = ("click here", "limited offer", "verify your account", "urgent",
                   "claim now", "100% legit", "act fast")
NAMES = ("Maria", "Juan", "Siti", "Ahmad", "Somchai", "Nguyen", "Dewi", "Rizal", "Aung")
SHORTENERS = ("bit.ly", "tinyurl.com", "cutt.ly", "s.id", "t.ly")
URL_RE = re.compile(r"(?:https?://)?(?:[a-z0-9-]+\.)+[a-z]{2,}(?:/[^\s]*)?", re.IGNORECASE)
AMOUNT_RE = re.compile(r"\d[\d,.]*")


def homoglyph(text: str, rng: random.Random) -> str:
    return "".join(CONFUSABLES[ch] if ch in CONFUSABLES and rng.random() < 0.4 else ch
                   for ch in text)


def zero_width_bidi(text: str, rng: random.Random) -> str:
    out = []
    for ch in text:
        out.append(ch)
        roll = rng.random()
        if roll < 0.15:
            out.append(rng.choice(INVISIBLE))
        elif roll < 0.18:
            out.append(rng.choice(BIDI))
    return "".join(out)


def leetspeak(text: str, rng: random.Random) -> str:
    return "".join(LEET[ch.lower()] if ch.lower() in LEET and rng.random() < 0.5 else ch
                   for ch in text)


def spacing_noise(text: str, rng: random.Random) -> str:
    out = []
    for ch in text:
        out.append(ch)
        roll = rng.random()
        if ch.isalnum() and roll < 0.08:
            out.append(" ")
        elif ch.isalnum() and roll < 0.12:
            out.append(rng.choice(".-_*"))
        elif ch == " " and roll < 0.3:
            out.append(" ")
    return "".join(out)


def code_mixing(text: str, rng: random.Random) -> str:
    """Swap native words for English ones; with none to swap, slip in an English phrase."""
    swapped = False
    words = text.split(" ")
    for i, word in enumerate(words):
        key = word.lower().strip(string.punctuation)
        if key in ENGLISH_FOR and rng.random() < 0.8:
            words[i], swapped = ENGLISH_FOR[key], True
    for native, english in ENGLISH_FOR.items():
        if not native.isascii() and native in text and rng.random() < 0.8:
            words = " ".join(words).replace(native, f" {english} ").split(" ")
            swapped = True
    if not swapped:
        words.insert(rng.randrange(len(words) + 1), rng.choice(ENGLISH_FILLERS))
    return " ".join(words)


def personalisation(text: str, rng: random.Random) -> str:
    """Greet a name and change amounts and dates, as a generated lure would."""
    def amount(match: re.Match[str]) -> str:
        digits = sum(ch.isdigit() for ch in match.group())
        return str(rng.randrange(10 ** max(digits - 1, 0), 10 ** digits))

    body = AMOUNT_RE.sub(amount, text)
    return f"{rng.choice(('Hi', 'Dear', 'Hello', 'Kumusta', 'Salam'))} {rng.choice(NAMES)}, {body}"


def url_obfuscation(text: str, rng: random.Random) -> str:
    """Replace each link with a shortener, an IDN homograph or a defanged form."""
    def rewrite(match: re.Match[str]) -> str:
        url = match.group()
        how = rng.randrange(3)
        if how == 0:
            code = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(7))
            return f"https://{rng.choice(SHORTENERS)}/{code}"
        if how == 1:
            return homoglyph(url, rng)
        return url.replace("http", "hxxp").replace(".", "[.]")

    return URL_RE.sub(rewrite, text)


def truncation(text: str, rng: random.Random) -> str:
    keep = max(1, int(len(text) * rng.uniform(0.4, 0.7)))
    return text[:keep]


TEXT_MUTATORS: dict[str, Mutator] = {
    "homoglyph": homoglyph,
    "zero_width_bidi": zero_width_bidi,
    "leetspeak": leetspeak,
    "spacing_noise": spacing_noise,
    "code_mixing": code_mixing,
    "personalisation": personalisation,
    "url_obfuscation": url_obfuscation,
    "truncation": truncation,
}


def case_rng(seed: int, mutator: str, case_id: str) -> random.Random:
    """The random source for one (seed, mutator, case): independent of run order."""
    return random.Random(f"{seed}\x1f{mutator}\x1f{case_id}")


def mutate_text(name: str, text: str, seed: int, case_id: str) -> str:
    if name not in TEXT_MUTATORS:
        raise KeyError(name)
    return TEXT_MUTATORS[name](text, case_rng(seed, name, case_id))
