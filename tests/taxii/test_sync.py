"""``bayanihan sync``: two hubs on loopback, and a pull from medallion (not Bayanihan)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bayanihan.cli.sync import sync_app
from bayanihan.model.tlp import TLP
from bayanihan.share.sync import Remote, pull, push
from bayanihan.store import organisations as orgs
from bayanihan.store.schema import stix_objects
from bayanihan.store.tables_taxii import all_cursors
from tests.conftest import RunningHub
from tests.stixgen import indicator
from tests.taxii.conftest import REGIONAL, TAXII, post_envelope
from tests.taxii.medallion import medallion

MakeHub = Callable[..., RunningHub]


def rows(hub: RunningHub, object_type: str = "indicator") -> dict[str, tuple[str, str, str]]:
    """(id, version) -> (author_org, tlp, body) of the stored indicators."""
    t = stix_objects.c
    found = hub.hub.db.read_sync(lambda conn: list(conn.execute(
        select(t.id, t.version, t.author_org, t.tlp, t.body).where(t.type == object_type))))
    return {f"{r.id}@{r.version}": (r.author_org, r.tlp, r.body) for r in found}


def count(hub: RunningHub) -> int:
    return hub.hub.db.read_sync(
        lambda conn: conn.execute(select(func.count()).select_from(stix_objects)).scalar())


def collection_url(hub: RunningHub) -> str:
    return f"{hub.url}/taxii2/api/collections/{REGIONAL}/"


@pytest.mark.slow
def test_national_node_pulls_from_and_pushes_to_the_regional_hub(
        second_database_url: str, make_hub: MakeHub, tmp_path: Path) -> None:
    # second_database_url first: fixtures end in reverse order, so the node's hub (and its
    # LISTEN thread) stops before its database is dropped
    regional = make_hub()
    node = make_hub(database_url=second_database_url, data_dir=str(tmp_path / "node"))
    sg = regional.client("SG")
    sg.headers["Accept"] = TAXII
    # objects are stored as sent (issue 11): an author names itself in created_by_ref, or
    # the object carries no author and the node files it under the source organisation
    sg_identity = regional.hub.db.read_sync(orgs.require, "SG").identity_id
    signed = [indicator(n, tlp=TLP.GREEN, created_by_ref=sg_identity) for n in range(3)]
    unsigned = [indicator(n, tlp=TLP.GREEN) for n in range(3, 5)]
    shared = signed + unsigned
    strict = indicator(10, tlp=TLP.AMBER_STRICT)
    assert post_envelope(sg, *shared).json()["success_count"] == 5
    assert post_envelope(sg, strict, audience="SG,TH").json()["success_count"] == 1
    remote = Remote(collection_url(regional), key=regional.key("VN", "reader"))
    pages: list[int] = []
    first = pull(node.hub.db, remote, "JPCERT", page_size=3, max_pages=1,
                 progress=lambda r: pages.append(r.pages))
    assert first.pages == 1 and pages == [1]  # interrupted after one page
    report = pull(node.hub.db, remote, "JPCERT", page_size=3)
    got = rows(node)
    assert set(got) == {f"{o['id']}@{o['modified']}" for o in shared}  # not AMBER+STRICT
    theirs = rows(regional)
    authors = {f"{o['id']}@{o['modified']}": "SG" for o in signed} | {
        f"{o['id']}@{o['modified']}": "JPCERT" for o in unsigned}
    for key, (author, tlp, body) in got.items():
        # author mapped by identity (else the source organisation), marking kept
        assert (author, tlp) == (authors[key], "green")
        assert body == theirs[key][2]  # byte for byte as the regional hub holds it
    before = count(node)
    again = pull(node.hub.db, remote, "JPCERT", page_size=3)
    assert again.stored == 0 and count(node) == before and report.rejected == 0
    # push: the node's own reports go to the regional hub, once
    vn_node = node.client("VN")
    vn_node.headers["Accept"] = TAXII
    own = [indicator(50 + n, tlp=TLP.AMBER) for n in range(3)]
    assert post_envelope(vn_node, *own).json()["success_count"] == 3
    assert post_envelope(vn_node, indicator(60, tlp=TLP.RED), audience="VN").json()[
        "success_count"] == 1
    target = Remote(collection_url(regional), key=regional.key("VN"))
    sent = push(node.hub.db, target, "VN", page_size=2)
    assert (sent.objects, sent.stored, sent.rejected) == (3, 3, 0), sent.reasons
    pushed = {k: v for k, v in rows(regional).items() if v[0] == "VN"}
    assert set(pushed) == {f"{o['id']}@{o['modified']}" for o in own}
    assert push(node.hub.db, target, "VN").objects == 0


@pytest.mark.slow
def test_pull_from_medallion_with_the_cli(make_hub: MakeHub, tmp_path: Path) -> None:
    node = make_hub()
    objs = [indicator(200 + n, tlp=TLP.GREEN) for n in range(7)]
    with medallion(tmp_path, page_size=3) as server:
        with server.client() as client:
            r = client.post(server.collection_url + "objects/", headers={"Content-Type": TAXII},
                            content=orjson.dumps({"objects": objs}))
            assert r.status_code == 202 and r.json()["success_count"] == 7
        args = ["pull", server.collection_url, "--source-org", "JPCERT", "--user", server.user,
                "--database", node.hub.settings.database(), "--page-size", "2"]
        env: dict[str, Any] = {"BAYANIHAN_SYNC_PASSWORD": server.password}
        result = CliRunner().invoke(sync_app, args, env=env)
        assert result.exit_code == 0, result.output
        assert "7 stored" in result.output
        got = rows(node)
        assert set(got) == {f"{o['id']}@{o['modified']}" for o in objs}
        assert {v[0] for v in got.values()} == {"JPCERT"}
        again = CliRunner().invoke(sync_app, args, env=env)
        assert again.exit_code == 0 and "0 stored" in again.output, again.output
        status = CliRunner().invoke(sync_app, ["status", "--database",
                                               node.hub.settings.database()])
        assert status.exit_code == 0 and "pull" in status.output
        cursors = node.hub.db.read_sync(all_cursors)
        assert [(c.remote, c.direction) for c in cursors] == [(server.collection_url, "pull")]
