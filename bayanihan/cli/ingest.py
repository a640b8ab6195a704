"""``bayanihan ingest FILE`` (STIX): a bundle, a list, one object, or a whole MITRE release.

The file may be gzip-compressed and as large as a release (no ``max_bundle_objects``
limit here: the operator chose the file). Its objects are stored in chunks, one write
transaction each, with a progress bar (``ingest/releases.py``). An ATT&CK release or the
ATLAS bundle is public: objects without a TLP marking of their own are distributed at
TLP:CLEAR unless ``--tlp`` says otherwise; any other file follows the hub's rule (AMBER).
The ATLAS bundle is repaired on the way in (``model/atlas.py``), each repair listed with
``--verbose``.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bayanihan.cli.common import err, out, run
from bayanihan.errors import InvalidInput
from bayanihan.hub import Hub
from bayanihan.ingest.ahead import ValidationAhead
from bayanihan.ingest.bundles import Submitter
from bayanihan.ingest.releases import ingest_release, is_atlas, is_mitre_release, read_release
from bayanihan.model.atlas import repair
from bayanihan.model.tlp import TLP
from bayanihan.store import organisations as orgs

__all__ = ["TLP_HELP", "ingest_stix", "parse_tlp"]

#: Files at least this large get a validation worker while they are read (ingest/ahead.py).
AHEAD_FILE_BYTES = 1 << 20

TLP_HELP = ("TLP of objects without a TLP marking of their own: clear, green, amber, "
            "amber+strict (default: clear for MITRE ATT&CK/ATLAS releases, else amber).")


def parse_tlp(text: str | None) -> TLP | None:
    if text is None:
        return None
    choices = ", ".join(t.value for t in TLP if t is not TLP.RED)
    try:
        level = TLP(text.strip().lower().removeprefix("tlp:"))
    except ValueError:
        raise InvalidInput(f"--tlp {text!r}: one of {choices}", ["--tlp"]) from None
    if level is TLP.RED:  # RED needs named recipients, object by object
        raise InvalidInput(f"--tlp red: not for a whole file; one of {choices}", ["--tlp"])
    return level


def ingest_stix(hub: Hub, file: Path, org: str, audience: Sequence[str] | None,
                tlp: str | None = None, *, verbose: bool = False) -> None:
    """Store the STIX objects of ``file`` as ``org``; exit 1 when some were refused."""
    level = run(lambda: parse_tlp(tlp))
    found = run(lambda: hub.db.read_sync(orgs.require, org.upper()))
    submitter = Submitter(found.code, found.identity_id, found.kind)
    with ValidationAhead() as ahead:
        if file.stat().st_size >= AHEAD_FILE_BYTES and hub.validation.processes > 0:
            ahead.start()  # a validation worker, up by the time the file is read
        _ingest_read(hub, file, submitter, level, audience, verbose, ahead)


def _ingest_read(hub: Hub, file: Path, submitter: Submitter, level: TLP | None,
                 audience: Sequence[str] | None, verbose: bool, ahead: ValidationAhead) -> None:
    with err.status(f"reading {file.name}…"):
        objects = run(lambda: read_release(file))
    repairs: list[str] = []
    if is_atlas(objects):
        objects, repairs = repair(objects)
        out.print(f"MITRE ATLAS: {len(repairs)} objects repaired on the way in"
                  + ("" if verbose or not repairs else " (--verbose lists them)"))
        for line in repairs if verbose else []:
            out.print(f"  repaired: {line}", highlight=False)
    if level is None and is_mitre_release(objects):
        level = TLP.CLEAR
    gc.freeze()  # the parsed file lives to the end: keep the collector from walking it
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task(f"storing {file.name}", total=len(objects))
        summary = run(lambda: ingest_release(hub, objects, submitter, tlp=level,
                                             audience=audience,
                                             progress=lambda n: bar.advance(task, n),
                                             ahead=ahead))
    tlp_note = f"; unmarked objects at TLP:{level.value.upper()}" if level else ""
    out.print(f"{file.name}: " + summary.lines()[0] + tlp_note, highlight=False)
    for line in summary.lines()[1:]:
        err.print(line, highlight=False)
    for line in summary.examples if verbose else summary.examples[:5]:
        err.print(f"  e.g. {line}", highlight=False)
    if summary.rejected:
        raise typer.Exit(1)
