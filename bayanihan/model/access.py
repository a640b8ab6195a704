"""Who may read and who may write, as pure rules on a reader and an object's marking.

The access policy's decisions for one object (TLP 2.0, the audience, the author); the same
rule as a SQL condition, and the table of who reads what, are in
:mod:`bayanihan.share.policy`, which re-exports these names. They live here, in the model,
so that every layer (ingest deciding what a refusal may reveal, correlate deriving views)
can apply the rule without importing the sharing layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bayanihan.model.members import OrgKind
from bayanihan.model.tlp import TLP

__all__ = ["PUBLIC", "WRITER_KINDS", "WRITER_ROLES", "Reader", "may_see", "may_write"]


@dataclass(frozen=True)
class Reader:
    """Who is asking: an organisation (with its kind and parent), or the public."""

    org: str | None = None
    kind: OrgKind | None = None
    parent: str | None = None
    parent_kind: OrgKind | None = None
    role: str | None = None
    key_id: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.org is not None

    @property
    def in_default_amber(self) -> bool:
        """Members, and downstream organisations of members."""
        return self.kind is OrgKind.MEMBER or (
            self.kind is OrgKind.DOWNSTREAM and self.parent_kind is OrgKind.MEMBER
        )

    @property
    def in_default_strict(self) -> bool:
        return self.kind is OrgKind.MEMBER

    def amber_names(self) -> list[str]:
        """Audience entries that admit this reader to AMBER: itself and its parent."""
        names = [self.org] if self.org else []
        if self.kind is OrgKind.DOWNSTREAM and self.parent:
            names.append(self.parent)
        return names


PUBLIC = Reader()

#: The one rule for writing, on every path (JSON API, reports, TAXII, campaigns, webhooks):
#: an analyst or admin key of a member, partner or the hub operator. Downstream and
#: observer organisations consume; they report through their member CERT.
WRITER_ROLES = ("analyst", "admin")
WRITER_KINDS = (OrgKind.MEMBER, OrgKind.PARTNER, OrgKind.HUB)


def may_write(reader: Reader, role: str | None) -> bool:
    """Whether a key of ``role`` held by ``reader``'s organisation may write."""
    return role in WRITER_ROLES and reader.kind in WRITER_KINDS


def may_see(reader: Reader, tlp: str, author_org: str | None,
            audience: Sequence[str] | None) -> bool:
    """Whether ``reader`` may see an object (or anything derived from it)."""
    level = TLP(tlp)
    if level is TLP.CLEAR:
        return True
    if not reader.authenticated:
        return False
    if author_org is not None and author_org == reader.org:
        return True
    if level is TLP.GREEN:
        return True
    if level is TLP.AMBER:
        if audience is None:
            return reader.in_default_amber
        return any(name in audience for name in reader.amber_names())
    if level is TLP.AMBER_STRICT:
        return reader.in_default_strict if audience is None else reader.org in audience
    # RED
    return audience is not None and reader.org in audience and reader.kind is not OrgKind.DOWNSTREAM
