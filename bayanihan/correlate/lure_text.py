"""Lure text normalisation and character shingles.

A lure rewritten by an LLM for each victim keeps its template but changes the details. The
normaliser removes what changes between copies so that copies of one lure share their
character shingles:

1. NFKC, then zero-width, bidi and other format controls (Unicode category ``Cf``) removed;
2. a salutation with a personal name ("Dear Maria Santos,", "Kak Budi", "เรียนคุณสมชาย"),
   greeting word included, -> ``⟨name⟩``;
3. case fold, then confusables folded to a skeleton (Unicode TR39 classes, :func:`skeleton`);
4. e-mail addresses, URLs, phone numbers, amounts and other numbers -> placeholders;
5. punctuation and symbols dropped, Thai tone marks dropped, whitespace collapsed.

:func:`shingles` cuts the normalised text into character k-grams; k depends on the script of
the letter each gram starts at, since Thai, Lao, Khmer and Burmese write no spaces between
words and pack more meaning into each character.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from bayanihan.model.skeleton import fold_table

PLACEHOLDERS = ("⟨email⟩", "⟨url⟩", "⟨phone⟩", "⟨amount⟩", "⟨num⟩", "⟨name⟩")
_PLACEHOLDER_CHARS = frozenset("⟨⟩")
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))

#: Shingle length per script: languages written without spaces carry more per character.
SHINGLE_K = {"thai": 3, "lao": 3, "khmer": 3, "myanmar": 3, "cjk": 2, "other": 4}

_SCRIPT_RANGES = (
    ("thai", 0x0E00, 0x0E7F),
    ("lao", 0x0E80, 0x0EFF),
    ("myanmar", 0x1000, 0x109F),
    ("myanmar", 0xA9E0, 0xA9FF),
    ("myanmar", 0xAA60, 0xAA7F),
    ("khmer", 0x1780, 0x17FF),
    ("khmer", 0x19E0, 0x19FF),
    ("cjk", 0x3040, 0x30FF),
    ("cjk", 0x3400, 0x9FFF),
    ("cjk", 0xAC00, 0xD7AF),
)

_GREETING = (
    r"dear|hi|hello|hey|good\s+(?:morning|afternoon|evening|day)|mr|mrs|ms|miss|sir|madam"
    r"|kak|kakak|bapak|ibu|pak|bu|sdr|sdri|saudara|saudari|halo|hai|selamat\s+(?:pagi|siang|sore|malam)"
    r"|po|kuya|ate|gng|ginoong|binibining|encik|puan|tuan|anh|chị|chi|em|ông|bà"
)
# Greeting word, optional punctuation, then one to three capitalised words (the name).
_NAME_SLOT = re.compile(
    rf"\b(?i:{_GREETING})\.?\s*,?\s+((?:[^\W\d_][^\W\d_'’-]*\s+){{0,2}}[^\W\d_][\w'’-]*)",
)
_NAME_WINDOW = 80
# Thai: the greeting is followed by คุณ and the name, with no space in between.
_THAI_GREETINGS = ("เรียน", "สวัสดี", "ถึง")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b(?:/\S*)?",
    re.IGNORECASE,
)
_PHONE = re.compile(r"(?<![\w])\+?\d(?:[\s().-]?\d){6,14}(?![\w])")
_CURRENCIES = (
    "rp. rp idr php ₱ p $ us$ s$ usd sgd rm myr ฿ thb baht บาท vnd ₫ đ dong peso pesos"
    " juta jt ribu rb k m mil million ล้าน พัน หมื่น แสน riel ៛ kip ₭ kyat ks € £"
)
_NUMBER = r"\d+(?:[.,\s]\d{3})*(?:[.,]\d+)?"
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


@cache
def _skeleton_table() -> dict[int, str]:
    table = fold_table(_PLACEHOLDER_CHARS)
    if any(chr(c) in "".join(PLACEHOLDERS) for c in table):  # placeholders must survive
        raise RuntimeError("confusables data folds a placeholder letter")
    return table


def skeleton(text: str) -> str:
    """Fold each character to the prototype of its confusable class (Unicode TR39).

    One character in, one out (case is kept where the prototype has case); digits, spaces
    and placeholders are left alone. Multi-character confusables ("rn" for "m") are not
    folded. The classes are :mod:`bayanihan.model.skeleton`'s (one implementation, shared
    with domain names).
    """
    return text.translate(_skeleton_table())


def strip_controls(text: str) -> str:
    """NFKC, then drop format controls: zero-width, bidi, soft hyphen, word joiner (``Cf``)."""
    return unicodedata.normalize("NFKC", text).translate(_control_table())


@cache
def _control_table() -> dict[int, None]:
    codes = [*range(0x20000), *range(0xE0000, 0xF0000)]
    table: dict[int, None] = {cp: None for cp in codes if unicodedata.category(chr(cp)) == "Cf"}
    table.update({0x034F: None, 0x3164: None})  # combining grapheme joiner, Hangul filler
    return table


@cache
def _currency_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Currency word right before / right after a number (matched on short windows)."""
    words = set(_CURRENCIES.split())
    words |= {skeleton(w) for w in words}  # "บาท" folds to "บาฑ" before masking
    alt = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    # Searched with pos/endpos: lookbehind still sees the text before pos; "$" is endpos.
    return (re.compile(rf"(?<![^\W\d_])(?:{alt})\s?$", re.IGNORECASE),
            re.compile(rf"\s?(?:{alt})(?![^\W\d_])", re.IGNORECASE))


_NUMBER_RE = re.compile(_NUMBER)


def _mask_amounts(text: str) -> str:
    """A number with a currency word or sign before or after it -> ``⟨amount⟩``."""
    before, after = _currency_res()
    out: list[str] = []
    pos = 0
    for m in _NUMBER_RE.finditer(text):
        start, end = m.start(), m.end()
        if start < pos:
            continue
        head = before.search(text, max(pos, start - 12), start)
        tail = None if head else after.match(text, end, end + 12)
        if head:
            start = head.start()
        elif tail:
            end = tail.end()
        else:
            continue
        out.append(text[pos:start])
        out.append(" ⟨amount⟩ ")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def mask_details(text: str) -> str:
    """E-mail addresses, URLs, amounts, phone numbers and other numbers -> placeholders."""
    text = _EMAIL.sub(" ⟨email⟩ ", text)
    text = _URL.sub(" ⟨url⟩ ", text)
    text = _mask_amounts(text)
    text = _PHONE.sub(" ⟨phone⟩ ", text)
    return _DIGITS.sub(" ⟨num⟩ ", text)


@cache
def _punctuation_table() -> dict[int, str | None]:
    """Assigned punctuation, symbols, separators, controls and surrogates -> space; Thai
    tone marks (mai ek, tho, tri, chattawa) dropped: spam spells them loosely ("คลิ๊ก")."""
    # Planes 2-13 hold ideographs and unassigned code points only; 15-16 are private use.
    codes = [*range(0x20000), *range(0xE0000, 0xF0000)]
    table: dict[int, str | None] = {
        cp: " "
        for cp in codes
        if unicodedata.category(chr(cp)) in _DROPPED and chr(cp) not in _PLACEHOLDER_CHARS
    }
    table.update(dict.fromkeys(range(0x0E48, 0x0E4C)))
    return table


_DROPPED = frozenset(("Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs",
                      "Zl", "Zp", "Cc", "Cf", "Cs"))


def _drop_punctuation(text: str) -> str:
    return _SPACE.sub(" ", text.translate(_punctuation_table())).strip()


def mask_names(text: str) -> str:
    """Replace a greeting word and the name after it ("Dear Maria," "Kak Budi") with ``⟨name⟩``.

    The greeting goes too: a personalising rewrite adds it with the name, so it is as much a
    per-victim detail. Runs before case folding: only capitalised words after a greeting
    count as a name; a greeting with no name ("Dear customer") is kept.
    """

    def repl(m: re.Match[str]) -> str:
        words = [w for w in re.split(r"[\s,]+", m.group(1)) if w]
        names = []
        for w in words:
            if not w[0].isupper():
                break
            names.append(w)
        if not names:
            return m.group(0)
        rest = m.group(1)
        cut = rest.find(names[-1]) + len(names[-1])
        return f" ⟨name⟩ {rest[cut:]}"

    # Greetings open a message: only the start is searched (the pattern is costly).
    head, tail = text[:_NAME_WINDOW], text[_NAME_WINDOW:]
    if tail and not head[-1].isspace():  # do not cut a name in two
        cut = max(head.rfind(" "), 0)
        head, tail = text[:cut], text[cut:]
    return _thai_name_slot().sub(" ⟨name⟩ ", _NAME_SLOT.sub(repl, head) + tail)


@cache
def _thai_name_slot() -> re.Pattern[str]:
    """Thai greeting + คุณ + name, in plain and skeleton spelling (masking runs after folding)."""
    words = {w for g in _THAI_GREETINGS for w in (g, skeleton(g))}
    title = "|".join({"คุณ", skeleton("คุณ")})
    return re.compile(rf"({'|'.join(sorted(words))})\s*(?:{title})[^\s,!.:]+")


def normalise(text: str) -> str:
    """Normalised form of a lure: what stays the same between personalised copies."""
    text = mask_details(mask_names(skeleton(strip_controls(text))))
    for _ in range(4):  # folding can expose a composable or foldable pair; stop at a fixpoint
        folded = _drop_punctuation(unicodedata.normalize("NFKC", skeleton(text.casefold())))
        if folded == text:
            break
        text = folded
    return text


def normalise_for_embedding(text: str) -> str:
    """Lighter form for the sentence-embedding model: no skeleton, punctuation kept."""
    text = mask_details(mask_names(strip_controls(text))).casefold()
    return _SPACE.sub(" ", text).strip()


_SCRIPT_RES = {
    script: re.compile("[" + "".join(f"\\u{lo:04x}-\\u{hi:04x}" for name, lo, hi in _SCRIPT_RANGES
                                     if name == script) + "]")
    for script in dict.fromkeys(name for name, _, _ in _SCRIPT_RANGES)
}


def script_of(text: str) -> str:
    """Dominant script among the letters of ``text`` (placeholders not counted): a key of
    :data:`SHINGLE_K`."""
    text = _PLACEHOLDER_RE.sub(" ", text)
    counts = {script: len(rx.findall(text)) for script, rx in _SCRIPT_RES.items()}
    counts["other"] = sum(map(str.isalpha, text)) - sum(counts.values())
    best = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    return best[0] if best[1] > 0 else "other"


_PLACEHOLDER_CODE = {p: chr(0xE000 + i) for i, p in enumerate(PLACEHOLDERS)}


def compact(normalised: str) -> str:
    """Normalised text with each placeholder as one private-use character."""
    return _PLACEHOLDER_RE.sub(lambda m: _PLACEHOLDER_CODE[m.group(0)], normalised)


@cache
def _letter_k(c: str) -> int:
    """Shingle length a character asks for: its script's k; 0 for a space or placeholder."""
    cp = ord(c)
    for name, lo, hi in _SCRIPT_RANGES:
        if lo <= cp <= hi:
            return SHINGLE_K[name]
    return SHINGLE_K["other"] if c.isalpha() else 0


def shingle_lengths(text: str) -> list[int]:
    """k for the shingle starting at each position of compacted text.

    k is that of the script of the first letter at or after the position (the last letter's
    after it; :data:`SHINGLE_K` "other" when there is none): a Thai word inside an English
    lure is cut as Thai. The choice is local, so adding text elsewhere (a greeting, an English
    brand name) never changes how the rest of a lure is cut.
    """
    ks = [_letter_k(c) for c in text]
    k = next((k for k in reversed(ks) if k), SHINGLE_K["other"])
    out = []
    for own in reversed(ks):
        k = own or k
        out.append(k)
    return out[::-1]


def shingle_length(normalised: str) -> int:
    """k of the dominant script of this text (:data:`SHINGLE_K`); shingles themselves are
    cut by :func:`shingle_lengths`, position by position."""
    return SHINGLE_K[script_of(normalised)]


def shingles(normalised: str, k: int | None = None) -> set[str]:
    """Character shingles of normalised text; each placeholder counts as one character.

    Without ``k`` each shingle is as long as :func:`shingle_lengths` says for its start.
    Text shorter than its shingles is one shingle; empty text has none.
    """
    text = compact(normalised)
    if not text:
        return set()
    ks = [k] * len(text) if k is not None else shingle_lengths(text)
    out = {text[i : i + n] for i, n in enumerate(ks) if i + n <= len(text)}
    return out or {text}
