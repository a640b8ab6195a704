"""Bulk intake of reported messages: a member's national scam-report line forwards what
citizens and downstream organisations report; the hub folds copies into lures, links them
to what is known, and drafts (or publishes) a report when a wave crosses the member's
threshold. See ``docs/messages.md``.

The flow, one stage per module:

    batch.py     parse a batch (JSON array or JSON lines), check every field, by index
    prepare.py   CPU work outside the database: mask the recipient, normalise, MinHash, observables
    intake.py    ONE write transaction: raw rows, exact/near folding, links, drafts, retention purge
    drafts.py    the report drafted from a cluster; publishing it through the report path
    settings.py  the member's thresholds and publishing choice
"""
