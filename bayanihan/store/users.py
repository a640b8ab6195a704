"""People who sign in to the web pages: accounts, passwords, second factor, sessions.

Passwords are hashed with argon2id (``argon2-cffi``). Analysts and admins must enrol a
TOTP second factor (``pyotp``, RFC 6238, 30-second steps, one step of clock drift either
way, each code accepted once). The tenth wrong password in a row locks the account for
``LOCK_MINUTES``; every sign-in, failure and lock-out is written to the audit log.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, select, update

from bayanihan.errors import Conflict, InvalidInput, NotFound
from bayanihan.model.stix import now_us
from bayanihan.store import audit
from bayanihan.store.keys import Role
from bayanihan.store.organisations import require
from bayanihan.store.tables_users import users, web_sessions

MAX_FAILURES = 10
LOCK_MINUTES = 15
MIN_PASSWORD = 12
SESSION_HOURS = 12
PENDING_MINUTES = 10  # between the password and the second factor
ISSUER = "Bayanihan"
_hasher = PasswordHasher()
_MINUTE_US = 60 * 1_000_000


@dataclass(frozen=True)
class User:
    username: str
    org: str
    role: Role
    totp_enrolled: bool
    locked_until_us: int | None
    disabled: bool

    @property
    def needs_second_factor(self) -> bool:
        return self.role in (Role.ANALYST, Role.ADMIN)


@dataclass(frozen=True)
class Session:
    username: str
    org: str
    role: Role
    csrf: str
    stage: str  # "password": the second factor is still due; "full": signed in
    totp_enrolled: bool


def _user(row: object) -> User:
    m = row._mapping  # type: ignore[attr-defined]
    return User(m["username"], m["org"], Role(m["role"]), m["totp_enrolled"],
                m["locked_until_us"], m["disabled_us"] is not None)


def _actor(user: User | None, org: str | None = None) -> audit.Actor:
    # the audit log names keys by id; people by "user:" and their name
    return audit.Actor(user.org if user else org, f"user:{user.username}"[:32] if user else None)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get(conn: Connection, username: str) -> User | None:
    row = conn.execute(select(users).where(users.c.username == username)).first()
    return _user(row) if row else None


def list_users(conn: Connection, org: str | None = None) -> list[User]:
    query = select(users).order_by(users.c.org, users.c.username)
    if org:
        query = query.where(users.c.org == org)
    return [_user(r) for r in conn.execute(query)]


def add(conn: Connection, actor: audit.Actor, username: str, org: str, role: Role,
        password: str) -> User:
    """A new account; analysts and admins enrol their second factor at first sign-in."""
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise InvalidInput("username: 1 to 64 characters, no spaces", ["username"])
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password: at least {MIN_PASSWORD} characters", ["password"])
    require(conn, org)
    if get(conn, username) is not None:
        raise Conflict(f"user {username} already exists", ["username"])
    conn.execute(users.insert().values(
        username=username, org=org, role=role.value, password_hash=_hasher.hash(password),
        totp_secret=pyotp.random_base32(), totp_enrolled=False, failures=0,
        created_us=now_us()))
    audit.record(conn, actor, "user.add", [], {"username": username, "org": org,
                                              "role": role.value})
    found = get(conn, username)
    assert found is not None
    return found


def set_password(conn: Connection, actor: audit.Actor, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password: at least {MIN_PASSWORD} characters", ["password"])
    if get(conn, username) is None:
        raise NotFound(f"no user {username}", ["username"])
    conn.execute(update(users).where(users.c.username == username).values(
        password_hash=_hasher.hash(password), failures=0, locked_until_us=None))
    conn.execute(delete(web_sessions).where(web_sessions.c.username == username))
    audit.record(conn, actor, "user.password", [], {"username": username})


def set_disabled(conn: Connection, actor: audit.Actor, username: str, disabled: bool) -> None:
    if get(conn, username) is None:
        raise NotFound(f"no user {username}", ["username"])
    conn.execute(update(users).where(users.c.username == username).values(
        disabled_us=now_us() if disabled else None))
    if disabled:
        conn.execute(delete(web_sessions).where(web_sessions.c.username == username))
    audit.record(conn, actor, "user.disable" if disabled else "user.enable", [],
                 {"username": username})


def check_password(conn: Connection, username: str, password: str,
                   ) -> tuple[User | None, str | None]:
    """(the user, None) when the password is right; (None, reason) otherwise. Counts
    failures, locks on the tenth in a row, audits every attempt."""
    at = now_us()
    row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None:
        _hasher.hash(password)  # the same work as a real check: no timing oracle on names
        audit.record(conn, audit.Actor(None, None), "user.signin_failed", [],
                     {"username": username[:64], "reason": "unknown user"})
        return None, "wrong user name or password"
    user = _user(row)
    actor = _actor(user)
    if user.disabled:
        audit.record(conn, actor, "user.signin_failed", [], {"username": username,
                                                            "reason": "disabled"})
        return None, "wrong user name or password"
    if user.locked_until_us and user.locked_until_us > at:
        audit.record(conn, actor, "user.signin_failed", [], {"username": username,
                                                            "reason": "locked"})
        return None, "this account is locked after repeated failures; try again later"
    try:
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        failures = row.failures + 1
        values: dict[str, object] = {"failures": failures}
        audit.record(conn, actor, "user.signin_failed", [], {"username": username,
                                                            "reason": "password",
                                                            "failures": failures})
        if failures >= MAX_FAILURES:
            values = {"failures": 0, "locked_until_us": at + LOCK_MINUTES * _MINUTE_US}
            audit.record(conn, actor, "user.locked", [], {"username": username,
                                                         "minutes": LOCK_MINUTES})
        conn.execute(update(users).where(users.c.username == username).values(**values))
        if failures >= MAX_FAILURES:
            return None, "this account is locked after repeated failures; try again later"
        return None, "wrong user name or password"
    if _hasher.check_needs_rehash(row.password_hash):
        conn.execute(update(users).where(users.c.username == username).values(
            password_hash=_hasher.hash(password)))
    conn.execute(update(users).where(users.c.username == username).values(
        failures=0, locked_until_us=None))
    return user, None


def totp_uri(conn: Connection, username: str) -> str:
    """The otpauth:// URI shown as a QR code while the user is not yet enrolled."""
    secret = conn.execute(select(users.c.totp_secret).where(users.c.username == username)).scalar()
    assert secret
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def check_totp(conn: Connection, username: str, code: str, at: float | None = None) -> bool:
    """A valid, not yet used code (one step of drift allowed); enrols on first success.
    Wrong codes count towards the same lock-out as wrong passwords."""
    row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None or not row.totp_secret:
        return False
    user = _user(row)
    if user.disabled or (user.locked_until_us and user.locked_until_us > now_us()):
        return False
    now = at if at is not None else time.time()
    totp = pyotp.TOTP(row.totp_secret)
    code = "".join(code.split())
    step = int(now // totp.interval)
    good = next((s for s in (step - 1, step, step + 1)
                 if secrets.compare_digest(totp.at(s * totp.interval), code)), None)
    if good is None or (row.totp_last_step is not None and good <= row.totp_last_step):
        failures = row.failures + 1
        values: dict[str, object] = {"failures": failures}
        audit.record(conn, _actor(user), "user.signin_failed", [],
                     {"username": username, "reason": "second factor", "failures": failures})
        if failures >= MAX_FAILURES:
            values = {"failures": 0, "locked_until_us": now_us() + LOCK_MINUTES * _MINUTE_US}
            audit.record(conn, _actor(user), "user.locked", [], {"username": username,
                                                                "minutes": LOCK_MINUTES})
        conn.execute(update(users).where(users.c.username == username).values(**values))
        return False
    conn.execute(update(users).where(users.c.username == username).values(
        totp_last_step=good, totp_enrolled=True, failures=0))
    if not row.totp_enrolled:
        audit.record(conn, _actor(user), "user.totp_enrolled", [], {"username": username})
    return True


def start_session(conn: Connection, user: User, full: bool) -> str:
    """A new session (the cookie's value, returned once); ``full`` when no factor is due."""
    token = secrets.token_urlsafe(32)
    at = now_us()
    minutes = SESSION_HOURS * 60 if full else PENDING_MINUTES
    conn.execute(web_sessions.insert().values(
        token_hash=hash_token(token), username=user.username, csrf=secrets.token_urlsafe(24),
        stage="full" if full else "password", created_us=at,
        expires_us=at + minutes * _MINUTE_US))
    if full:
        audit.record(conn, _actor(user), "user.signin", [], {"username": user.username})
    return token


def complete_session(conn: Connection, token: str) -> str:
    """The second factor passed: the pending session is replaced by a full one (a new
    cookie, so a value seen before sign-in is worth nothing after)."""
    session = read_session(conn, token)
    assert session is not None
    end_session(conn, token)
    user = get(conn, session.username)
    assert user is not None
    return start_session(conn, user, full=True)


def read_session(conn: Connection, token: str) -> Session | None:
    row = conn.execute(
        select(web_sessions, users.c.org, users.c.role, users.c.totp_enrolled,
               users.c.disabled_us)
        .join(users, users.c.username == web_sessions.c.username)
        .where(web_sessions.c.token_hash == hash_token(token))).first()
    if row is None or row.expires_us <= now_us() or row.disabled_us is not None:
        return None
    return Session(row.username, row.org, Role(row.role), row.csrf, row.stage, row.totp_enrolled)


def end_session(conn: Connection, token: str) -> None:
    conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == hash_token(token)))


def sign_out(conn: Connection, token: str) -> None:
    session = read_session(conn, token)
    end_session(conn, token)
    if session:
        audit.record(conn, audit.Actor(session.org, f"user:{session.username}"[:32]),
                     "user.signout", [], {"username": session.username})
