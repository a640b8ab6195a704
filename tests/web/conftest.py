"""Web fixtures: a served hub with people who sign in (password + TOTP)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pyotp
import pytest
from sqlalchemy import select

from bayanihan.store import audit, keys, users
from bayanihan.store.tables_users import users as users_table
from tests.conftest import RunningHub

PASSWORD = "correct horse battery staple"


@dataclass
class Person:
    username: str
    org: str
    role: str
    password: str = PASSWORD

    def secret(self, rh: RunningHub) -> str:
        return str(rh.hub.db.read_sync(lambda conn: conn.execute(
            select(users_table.c.totp_secret).where(
                users_table.c.username == self.username)).scalar()))

    def code(self, rh: RunningHub, at: float | None = None) -> str:
        """A code for a step no earlier code used (a code is accepted once)."""
        totp = pyotp.TOTP(self.secret(rh))
        last = rh.hub.db.read_sync(lambda conn: conn.execute(
            select(users_table.c.totp_last_step).where(
                users_table.c.username == self.username)).scalar())
        now = at if at is not None else time.time()
        step = int(now // 30)
        if last is not None and step <= last:
            step = last + 1  # one step ahead is accepted (clock drift)
        return totp.at(step * 30)


def add_person(rh: RunningHub, username: str, org: str, role: str = "analyst") -> Person:
    rh.hub.db.write_sync(users.add, audit.Actor.console(), username, org, keys.Role(role),
                         PASSWORD)
    return Person(username, org, role)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]*)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(rh: RunningHub, person: Person, client: httpx.Client | None = None) -> httpx.Client:
    c = client or httpx.Client(base_url=rh.url, timeout=30)
    page = c.get("/signin")
    r = c.post("/signin", data={"username": person.username, "password": person.password,
                                "csrf": csrf_of(page.text)})
    assert r.status_code == 303, r.text
    if r.headers["location"].endswith("/second-factor"):
        page = c.get("/signin/second-factor")
        r = c.post("/signin/second-factor", data={"code": person.code(rh),
                                                  "csrf": csrf_of(page.text)})
        assert r.status_code == 303, r.text
    assert r.headers["location"] == "/"
    return c


@pytest.fixture
def web_hub(make_hub: Callable[..., RunningHub]) -> RunningHub:
    return make_hub()
