"""Tables of the web sign-in: people (users) and their browser sessions.

A user belongs to one organisation with a role, like an API key. Passwords are argon2id
hashes; the TOTP secret is kept (it must be, to check codes) and never shown after
enrolment. A session row is keyed by the SHA-256 of the cookie's secret, so a copy of the
database does not hold usable cookies.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table

from bayanihan.store.schema import metadata

users = Table(
    "users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("org", String(32), ForeignKey("organisations.code"), nullable=False),
    Column("role", String(12), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("totp_secret", String(64), nullable=True),
    Column("totp_enrolled", Boolean, nullable=False),
    Column("totp_last_step", BigInteger, nullable=True),  # a code is accepted once
    Column("failures", Integer, nullable=False),
    Column("locked_until_us", BigInteger, nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("disabled_us", BigInteger, nullable=True),
)
Index("ix_users_org", users.c.org)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(64), ForeignKey("users.username", ondelete="CASCADE"),
           nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("stage", String(8), nullable=False),  # "password" (second factor due) or "full"
    Column("created_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
)
Index("ix_web_sessions_username", web_sessions.c.username)
