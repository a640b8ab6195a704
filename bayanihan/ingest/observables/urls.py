"""URL canonicalisation and URL finding in free text.

Canonical form: scheme and host lower case, host as IDNA A-label (or canonical IP), default
port dropped, dot segments removed, percent-encoding normalised (unreserved characters decoded,
other escapes upper case, non-ASCII UTF-8 encoded), empty path ``/``, query kept, fragment
dropped. A URL written without a scheme (``bit.ly/3abc``) gets ``http://``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple
from urllib.parse import quote, urlsplit

from .hosts import (
    HOST_START,
    canonical_host,
    cut_glued_host,
    glued_www,
    host_pattern,
    known_suffix,
)
from .observable import ObservableError
from .refang import refang

__all__ = ["UrlMatch", "canonical_url", "find_urls", "normalize_percent"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_SAFE_PATH = "/!$&'()*+,;=:@-._~"
_SAFE_QUERY = _SAFE_PATH + "?"
_MAX_URL = 8192
_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")

_PATH_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%|^{}\\]"
_SCHEME_URL = re.compile(
    r"(?<![A-Za-z0-9+.\-])(?P<scheme>(?i:https?|ftp|wss?))://"
    r"(?P<host>[^\s/?#<>\"'`\\]+)"
    rf"(?P<rest>[/?#]{_PATH_CHARS}*)?"
)
_BARE_URL = re.compile(
    HOST_START + rf"(?P<host>{host_pattern()})(?P<port>:\d{{1,5}})?"
    rf"(?P<rest>/{_PATH_CHARS}*)?"
)
_TRAILING = ".,;:!?'\"*"
_PAIRS = {")": "(", "]": "[", "}": "{"}
# Top-level labels that are also common file extensions: a bare ``invoice.zip`` is a file.
_FILE_LIKE_TLDS = frozenset({"zip", "mov", "py", "sh", "md", "rs", "ps", "pl", "so", "cs"})


def _percent_fix(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def normalize_percent(part: str, safe: str) -> str:
    """Normalise percent-encoding; quote what is outside ``safe`` and unreserved."""
    pieces: list[str] = []
    last = 0
    for match in _PCT.finditer(part):
        pieces.append(quote(part[last : match.start()], safe=safe))
        pieces.append(_percent_fix(match))
        last = match.end()
    pieces.append(quote(part[last:], safe=safe))
    return "".join(pieces)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4."""
    output: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    trailing = path.endswith(("/.", "/.."))
    return "/" + "/".join(output) + ("/" if trailing and output else "")


def canonical_url(text: str) -> str:
    """Canonicalise one URL (defanged or not); raise ObservableError when it is not one."""
    raw = refang(text).strip()
    if not raw or len(raw) > _MAX_URL:
        raise ObservableError("url", text, "empty or longer than 8192 characters")
    if not _HAS_SCHEME.match(raw):
        raw = "http://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ObservableError("url", text, f"does not parse ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ObservableError("url", text, f"scheme {scheme!r} is not a network scheme")
    netloc = parts.netloc
    userinfo, _, hostport = netloc.rpartition("@")
    host = hostport
    if hostport.startswith("["):
        host = hostport[: hostport.find("]") + 1]
    elif ":" in hostport:
        host = hostport.rsplit(":", 1)[0]
    if not host:
        raise ObservableError("url", text, "no host")
    host, _ = canonical_host(host)
    authority = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if userinfo:
        authority = normalize_percent(userinfo, "!$&'()*+,;=:") + "@" + authority
    path = _remove_dot_segments(normalize_percent(parts.path or "/", _SAFE_PATH))
    query = normalize_percent(parts.query, _SAFE_QUERY)
    return f"{scheme}://{authority}{path}" + (f"?{query}" if query else "")


def _trim(candidate: str) -> str:
    """Drop trailing punctuation and unbalanced closing brackets."""
    while candidate:
        last = candidate[-1]
        if last in _TRAILING or (last in _PAIRS and candidate.count(last) > candidate.count(_PAIRS[last])):
            candidate = candidate[:-1]
        else:
            break
    return candidate


class UrlMatch(NamedTuple):
    """One URL found in text."""

    canonical: str
    written: str
    start: int
    end: int
    scheme_assumed: bool


def _scheme_matches(text: str) -> Iterator[tuple[int, int]]:
    for match in _SCHEME_URL.finditer(text):
        host = cut_glued_host(match.group("host"))
        end = match.start("host") + len(host)
        if len(host) == len(match.group("host")) and match.group("rest"):
            end = match.end("rest")
        yield match.start(), match.start() + len(_trim(text[match.start() : end]))


def find_urls(text: str) -> Iterator[UrlMatch]:
    """Yield URLs in already refanged text: with a scheme, or a bare host followed by a path."""
    taken: list[tuple[int, int]] = []
    for start, end in _scheme_matches(text):
        written = text[start:end]
        try:
            yield UrlMatch(canonical_url(written), written, start, end, False)
        except ObservableError:
            continue
        taken.append((start, end))
    for match in _BARE_URL.finditer(text):
        host = match.group("host")
        glued = glued_www(host)
        if not (match.group("rest") or glued or host.lower().startswith("www.")):
            continue
        start = match.start() + glued
        if any(s <= start < e for s, e in taken) or not known_suffix(host):
            continue
        end = match.start() + len(_trim(match.group(0)))
        written = text[start:end]
        try:
            yield UrlMatch(canonical_url(written), written, start, end, True)
        except ObservableError:
            continue


def is_file_like(host: str) -> bool:
    """True for ``name.ext`` hosts whose top-level label is a common file extension."""
    return host.count(".") == 1 and host.rsplit(".", 1)[1].lower() in _FILE_LIKE_TLDS
