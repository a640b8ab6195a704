"""Fixtures of the correlate tests (the linking fixture lives in ``linking.py``)."""

from tests.correlate.linking import linking_hub

__all__ = ["linking_hub"]
