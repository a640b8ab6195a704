"""Confusable skeletons (Unicode TR39): the one implementation domains and lures share.

The data is Unicode's ``confusables.txt`` as shipped (JSON) by ``confusable-homoglyphs``;
nothing is fetched. Characters are grouped into confusable classes (``а`` Cyrillic, ``ɑ``
Latin alpha and ``a`` are one class); each class folds to one prototype, chosen ASCII
lower-case first, then ASCII, then the lowest code point, and always NFKC-stable.
Digits, white space and the characters a caller names in ``keep`` never fold and are
never prototypes (``0`` and ``O`` stay apart). Multi-character confusables (``rn`` for
``m``) are not folded: one character in, one out.

Two uses:

- :func:`skeleton` — for **domain names**, in the direction TR39 intends for spoof
  detection: only non-ASCII characters fold, so the skeleton of an ASCII domain is itself
  (``paypal-verify.com`` → ``paypal-verify.com``, and ``pаypal-verify.com`` with a
  Cyrillic ``а`` → ``paypal-verify.com``). Reports and indicators whose domains share a
  skeleton are lookalikes of one another.
- :func:`fold_table` — for **lure text**: every character folds (ASCII too), so the lure
  normaliser (``correlate/lure_text.py``) compares texts however their letters were swapped.
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from importlib import resources

__all__ = ["confusable_classes", "fold_table", "is_lookalike", "skeleton"]


def _kept(c: str, keep: frozenset[str]) -> bool:
    return c in keep or c.isspace() or unicodedata.category(c) == "Nd"


def _rank(c: str) -> tuple[int, int]:
    if "a" <= c <= "z":
        return (0, ord(c))
    if "A" <= c <= "Z":
        return (1, ord(c))
    return (2 if c.isascii() else 3, ord(c))


@cache
def confusable_classes(keep: frozenset[str] = frozenset()) -> dict[str, str]:
    """Character -> prototype of its TR39 confusable class (single characters only)."""
    data = resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    links: dict[str, list[dict[str, str]]] = json.loads(data)
    parent: dict[str, str] = {}

    def find(c: str) -> str:
        root = c
        while parent.get(root, root) != root:
            root = parent[root]
        parent[c] = root
        return root

    for char, alikes in links.items():
        if len(char) != 1:
            continue
        for alike in alikes:
            other = alike["c"]
            if len(other) == 1:
                parent[find(char)] = find(other)
    members: dict[str, list[str]] = {}
    for c in list(parent):
        members.setdefault(find(c), []).append(c)
    fold: dict[str, str] = {}
    for group in members.values():
        stable = [c for c in group
                  if unicodedata.normalize("NFKC", c) == c and not _kept(c, keep)]
        if not stable:
            continue
        proto = min(stable, key=_rank)
        for c in group:
            if c != proto and not _kept(c, keep):
                fold[c] = proto
    return fold


@cache
def fold_table(keep: frozenset[str] = frozenset()) -> dict[int, str]:
    """A ``str.translate`` table folding every confusable character (lure text)."""
    return {ord(c): p for c, p in confusable_classes(keep).items()}


@cache
def _domain_table() -> dict[int, str]:
    return {ord(c): p for c, p in confusable_classes().items() if not c.isascii()}


def skeleton(text: str) -> str:
    """The lookalike skeleton of a domain name (or any identifier), lower-cased.

    NFD, non-ASCII characters folded to their class prototype, NFC, lower case. ASCII
    text is its own skeleton (lower-cased).
    """
    if text.isascii():
        return text.lower()
    current = text
    for _ in range(4):  # lower-casing can reveal another confusable; stop at a fixed point
        folded = unicodedata.normalize("NFD", current).translate(_domain_table())
        nxt = unicodedata.normalize("NFC", folded).lower()
        if nxt == current or nxt.isascii():
            return nxt
        current = nxt
    return current


def is_lookalike(text: str) -> bool:
    """True when ``text`` differs from its skeleton by more than case (a spoofing form)."""
    return skeleton(text) != text.lower()
