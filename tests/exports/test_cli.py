"""``bayanihan export`` (from a hub over HTTP with its ETag kept, and from the database as an
organisation sees it) and ``bayanihan scan`` (files hashed locally, only digests asked of the
hub; offline against exported lists). Files are generated harmless bytes."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from pathlib import Path

import pytest
import tlsh
from typer.testing import CliRunner

from bayanihan.cli.main import app
from tests.conftest import RunningHub
from tests.correlate.linking import family, post_report
from tests.exports.helpers import post, report, values

RED = "red-for-th-only.org"


@pytest.fixture
def served(make_hub: Callable[..., RunningHub]) -> tuple[RunningHub, dict[str, str]]:
    rh = make_hub()
    blobs = family()
    th = rh.client("TH")
    digest = tlsh.hash(blobs[0])  # reported as an observable too: the tlsh list carries it
    ids = {"green": post_report(th, report("Dropper", ["dropper-cdn.net", digest]), blobs[0]),
           "red": post_report(th, report("Dropper RED", [RED], tlp="red", audience=["TH"]),
                              blobs[3])}
    post(th, report("Casino", ["casino-lure.org"], tlp="clear"))
    return rh, ids


def _cli(*args: str, key: str | None = None) -> tuple[int, str]:
    env = {"BAYANIHAN_KEY": key} if key else {}
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_export_from_a_hub_keeps_the_etag(served: tuple[RunningHub, dict[str, str]],
                                          tmp_path: Path) -> None:
    rh, _ = served
    out = tmp_path / "domains.txt"
    code, _ = _cli("export", "domains", "--url", rh.url, "-o", str(out), key=rh.key("VN"))
    assert code == 0 and values(out.read_text()) == {"dropper-cdn.net", "casino-lure.org"}
    assert (tmp_path / "domains.txt.etag").read_text().startswith('"')
    code, said = _cli("export", "domains", "--url", rh.url, "-o", str(out), key=rh.key("VN"))
    assert code == 0 and "unchanged" in said
    code, _ = _cli("export", "rpz", "--url", rh.url, "-o", str(tmp_path / "z"))  # no key
    assert code == 2 and not (tmp_path / "z").exists()  # the public feed offers no RPZ


def test_export_from_the_database_as_an_organisation(
        served: tuple[RunningHub, dict[str, str]], tmp_path: Path) -> None:
    rh, _ = served
    db = rh.hub.settings.database_url
    code, text = _cli("export", "domains", "--database", db)
    assert code == 0 and values(text) == {"casino-lure.org"}  # no --org: the public view
    code, text = _cli("export", "csv", "--database", db, "--org", "TH")
    assert code == 0 and f"domain,{RED},,red" in text
    code, text = _cli("export", "csv", "--database", db, "--org", "VN")
    assert code == 0 and RED not in text
    feed = tmp_path / "feed"
    code, _ = _cli("export", "misp", "--database", db, "--org", "VN", "-o", str(feed))
    assert code == 0 and (feed / "manifest.json").exists() and (feed / "hashes.csv").exists()
    code, said = _cli("export", "nonsense", "--database", db)
    assert code == 2 and "FORMAT" in said


def _tree(root: Path) -> dict[str, Path]:
    blobs = family()
    files = {"exact": root / "a" / "dropper.bin", "variant": root / "a" / "b" / "copy.bin",
             "red": root / "red.bin", "other": root / "notes.bin", "tiny": root / "t.txt"}
    for f in files.values():
        f.parent.mkdir(parents=True, exist_ok=True)
    files["exact"].write_bytes(blobs[0])
    files["variant"].write_bytes(blobs[1])
    files["red"].write_bytes(blobs[3])
    files["other"].write_bytes(random.Random(7).randbytes(30_000))
    files["tiny"].write_bytes(b"hello")
    return files


def _lines(text: str) -> dict[str, str]:
    return {line.split(": ", 1)[0]: line for line in text.splitlines() if ": " in line}


def test_scan_asks_the_hub_with_digests_only(served: tuple[RunningHub, dict[str, str]],
                                             tmp_path: Path) -> None:
    rh, ids = served
    files = _tree(tmp_path)
    code, text = _cli("scan", str(tmp_path), "--url", rh.url, key=rh.key("VN"))
    assert code == 1, text
    found = _lines(text)
    assert "known sha256" in found[str(files["exact"])]
    assert "near variant" in found[str(files["variant"])] and ids["green"] in text
    assert str(files["other"]) not in found and str(files["tiny"]) not in found
    # VN may not see the RED report: its sample is no exact match, its id never shown
    assert ids["red"] not in text and "known" not in found.get(str(files["red"]), "")
    code, text = _cli("scan", str(files["red"]), "--url", rh.url, key=rh.key("TH"))
    assert code == 1 and "known sha256" in text and "TLP:RED" in text


def test_scan_offline_against_exported_lists(served: tuple[RunningHub, dict[str, str]],
                                             tmp_path: Path) -> None:
    rh, _ = served
    db = rh.hub.settings.database_url
    lists = tmp_path / "lists"
    lists.mkdir()
    for fmt in ("sha256", "tlsh"):
        code, _ = _cli("export", fmt, "--database", db, "--org", "VN",
                       "-o", str(lists / f"{fmt}.txt"))
        assert code == 0
    assert hashlib.sha256(family()[0]).hexdigest() in (lists / "sha256.txt").read_text()
    files = _tree(tmp_path / "files")
    code, text = _cli("scan", str(tmp_path / "files"), "--against", str(lists / "sha256.txt"),
                      "--against", str(lists / "tlsh.txt"), "--max-distance", "30")
    assert code == 1, text
    found = _lines(text)
    assert "known sha256" in found[str(files["exact"])]
    assert "near variant" in found[str(files["variant"])]
    assert str(files["other"]) not in found
    code, said = _cli("scan", str(tmp_path / "nowhere"), "--against", str(lists / "tlsh.txt"))
    assert code == 2 and "no such file" in said
