"""Bulk inserts through the driver's own ``executemany`` (the ingest hot path).

SQLAlchemy Core builds parameters per row; for thousands of rows a second that costs
more than the database work. Here the statement is built once per table and columns and
rows go to the DBAPI cursor as tuples. Every other statement uses Core.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table


@lru_cache(maxsize=64)
def _statement(table: str, columns: tuple[str, ...], paramstyle: str) -> str:
    mark = "?" if paramstyle == "qmark" else "%s"
    names = ", ".join(columns)
    return f"INSERT INTO {table} ({names}) VALUES ({', '.join([mark] * len(columns))})"


def insert_rows(conn: Connection, table: Table, columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """INSERT ``rows`` (tuples in ``columns`` order) into ``table`` in the current transaction."""
    if not rows:
        return
    for name in columns:
        if name not in table.c:
            raise KeyError(f"{table.name} has no column {name}")
    sql = _statement(table.name, tuple(columns), conn.dialect.paramstyle)
    conn.exec_driver_sql(sql, [tuple(r) for r in rows])
