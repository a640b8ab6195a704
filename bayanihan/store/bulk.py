"""Bulk inserts for the ingest hot path: statements built once, rows passed as tuples.

SQLAlchemy Core builds parameters per row; for thousands of rows a second that costs
more than the database work. Here the statement is built once per table, columns and
row count. On SQLite, rows go in multi-row ``VALUES`` statements of up to
:data:`SQLITE_ROWS` rows: ``executemany`` would step the statement once per row, and
Python's sqlite3 releases and re-takes the interpreter lock around every step, so under
load each row could wait a thread switch interval (5 ms) for the lock. On PostgreSQL the
rows are streamed with ``COPY … FROM STDIN`` (twice as fast as psycopg's pipelined
``executemany``). Every other statement uses Core.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
from typing import Any

from sqlalchemy import Connection, Table

#: Rows per multi-row INSERT on SQLite (bound by SQLite's default 32,766 host parameters).
SQLITE_ROWS = 500


@lru_cache(maxsize=256)
def _statement(table: str, columns: tuple[str, ...], paramstyle: str, rows: int = 1) -> str:
    mark = "?" if paramstyle == "qmark" else "%s"
    one = f"({', '.join([mark] * len(columns))})"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * rows)}"


def insert_rows(conn: Connection, table: Table, columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """INSERT ``rows`` (tuples in ``columns`` order) into ``table`` in the current transaction."""
    if not rows:
        return
    for name in columns:
        if name not in table.c:
            raise KeyError(f"{table.name} has no column {name}")
    names, style = tuple(columns), conn.dialect.paramstyle
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        _copy_rows(conn, table.name, names, rows)
        return
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql(_statement(table.name, names, style), [tuple(r) for r in rows])
        return
    per = max(1, min(SQLITE_ROWS, 32_766 // len(names)))
    for start in range(0, len(rows), per):
        chunk = rows[start:start + per]
        conn.exec_driver_sql(_statement(table.name, names, style, len(chunk)),
                             tuple(chain.from_iterable(chunk)))


def _copy_rows(conn: Connection, table: str, columns: tuple[str, ...],
               rows: Sequence[Sequence[Any]]) -> None:
    """PostgreSQL: ``COPY … FROM STDIN`` in the current transaction (psycopg 3)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


@lru_cache(maxsize=64)
def _lookup(table: str, columns: tuple[str, ...], key: str, paramstyle: str, count: int) -> str:
    mark = "?" if paramstyle == "qmark" else "%s"
    return (f"SELECT {', '.join(columns)} FROM {table} "
            f"WHERE {key} IN ({', '.join([mark] * count)})")


def select_where_in(conn: Connection, table: Table, columns: Sequence[str], key: str,
                    values: Sequence[Any], chunk: int = 500) -> list[Any]:
    """Rows of ``table`` whose ``key`` is one of ``values`` (named ``columns``), in chunks.

    The hot-path twin of ``select(...).where(col.in_(values))``: SQLAlchemy renders an
    expanding IN parameter by parameter on every execution; here the statement text is
    cached per chunk size.
    """
    for name in (*columns, key):
        if name not in table.c:
            raise KeyError(f"{table.name} has no column {name}")
    found: list[Any] = []
    names, style = tuple(columns), conn.dialect.paramstyle
    for start in range(0, len(values), chunk):
        part = tuple(values[start:start + chunk])
        found.extend(conn.exec_driver_sql(_lookup(table.name, names, key, style, len(part)), part))
    return found
