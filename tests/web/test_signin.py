"""Sign-in as a browser meets it: password then TOTP, CSRF, sessions, lock-out, audit."""

from __future__ import annotations

import httpx
import orjson
from sqlalchemy import select

from bayanihan.store.schema import audit_log
from tests.conftest import RunningHub
from tests.web.conftest import add_person, csrf_of, sign_in


def _audit(rh: RunningHub, action: str) -> list[dict[str, object]]:
    rows = rh.hub.db.read_sync(lambda conn: conn.execute(
        select(audit_log.c.action, audit_log.c.detail).where(audit_log.c.action == action)).all())
    return [orjson.loads(r.detail) for r in rows]


def test_analyst_signs_in_with_password_and_totp(web_hub: RunningHub) -> None:
    th = add_person(web_hub, "somchai", "TH")
    with httpx.Client(base_url=web_hub.url, timeout=30) as c:
        assert c.get("/").headers["location"] == "/signin"
        page = c.get("/signin")
        r = c.post("/signin", data={"username": "somchai", "password": th.password,
                                    "csrf": csrf_of(page.text)})
        assert r.headers["location"] == "/signin/second-factor"
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert "secure" not in cookie  # plain HTTP on loopback: Secure only behind TLS
        # half-way (password only) reads no more than a signed-out browser
        assert c.get("/").headers["location"] == "/signin"
        enrol = c.get("/signin/second-factor")
        assert "<svg" in enrol.text and "QR code" in enrol.text
        bad = c.post("/signin/second-factor", data={"code": "000000",
                                                    "csrf": csrf_of(enrol.text)})
        assert bad.status_code == 401
        ok = c.post("/signin/second-factor", data={"code": th.code(web_hub),
                                                   "csrf": csrf_of(enrol.text)})
        assert ok.status_code == 303 and ok.headers["location"] == "/"
        home = c.get("/")
        assert home.status_code == 200 and "Overview for TH" in home.text
        assert "Set up your authenticator" not in c.get("/signin/second-factor").text
        # sign-out without the token is refused; with it, the session is gone
        assert c.post("/signout", data={}).status_code == 403
        out = c.post("/signout", data={"csrf": csrf_of(home.text)})
        assert out.status_code == 303
        assert c.get("/").headers["location"] == "/signin"
    assert [d["username"] for d in _audit(web_hub, "user.signin")] == ["somchai"]
    assert _audit(web_hub, "user.totp_enrolled") and _audit(web_hub, "user.signout")


def test_a_form_post_without_the_token_is_refused(web_hub: RunningHub) -> None:
    th = add_person(web_hub, "somchai", "TH")
    with httpx.Client(base_url=web_hub.url, timeout=30) as c:
        c.get("/signin")
        r = c.post("/signin", data={"username": th.username, "password": th.password})
        assert r.status_code == 403
        sign_in(web_hub, th, c)
        r = c.post("/report", data={"title": "x", "vector": "phishing", "tlp": "green"})
        assert r.status_code == 403 and "CSRF" in r.text
        r = c.post("/report", data={"title": "x", "vector": "phishing", "tlp": "green",
                                    "csrf": "forged"})
        assert r.status_code == 403


def test_tenth_wrong_password_locks_and_is_audited(web_hub: RunningHub) -> None:
    th = add_person(web_hub, "somchai", "TH")
    with httpx.Client(base_url=web_hub.url, timeout=30) as c:
        token = csrf_of(c.get("/signin").text)
        for i in range(9):
            r = c.post("/signin", data={"username": th.username, "password": f"wrong {i}",
                                        "csrf": token})
            assert r.status_code == 401 and "wrong user name or password" in r.text
        assert not _audit(web_hub, "user.locked")
        r = c.post("/signin", data={"username": th.username, "password": "wrong 10",
                                    "csrf": token})
        assert "locked" in r.text
        # now even the right password is refused for a while
        r = c.post("/signin", data={"username": th.username, "password": th.password,
                                    "csrf": token})
        assert r.status_code == 401 and "locked" in r.text
    assert _audit(web_hub, "user.locked")[0]["username"] == "somchai"
    assert len(_audit(web_hub, "user.signin_failed")) == 11


def test_session_cookie_never_opens_the_api_and_keys_never_open_pages(
        web_hub: RunningHub) -> None:
    th = add_person(web_hub, "somchai", "TH")
    with httpx.Client(base_url=web_hub.url, timeout=30) as c:
        sign_in(web_hub, th, c)
        r = c.get("/api/v1/alerts")
        assert r.status_code == 401
        assert "Basic" not in r.headers["www-authenticate"]
    key = web_hub.key("TH")
    r = httpx.get(web_hub.url + "/", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 303 and r.headers["location"] == "/signin"
    r = httpx.get(web_hub.url + "/taxii2/")
    # TAXII clients are the only ones offered Basic
    if r.status_code == 401:
        assert "Basic" in r.headers["www-authenticate"]


def test_api_writes_refuse_a_foreign_form(web_hub: RunningHub) -> None:
    key = web_hub.key("TH")
    headers = {"Authorization": f"Bearer {key}", "Origin": "https://evil.example"}
    r = httpx.post(web_hub.url + "/api/v1/reports", headers=headers,
                   files={"report": (None, '{"vector": "phishing", "title": "x"}')})
    assert r.status_code == 403 and r.json()["fields"] == ["Origin"]
    r = httpx.post(web_hub.url + "/api/v1/reports", headers={**headers,
                   "Content-Type": "text/plain"}, content=b"{}")
    assert r.status_code == 403
    # JSON from a script of another origin is a preflighted request: not this rule's case
    r = httpx.post(web_hub.url + "/api/v1/reports", headers=headers,
                   json={"vector": "phishing", "channel": "sms", "title": "A phishing SMS",
                         "tlp": "green"})
    assert r.status_code == 201, r.text


def test_reader_signs_in_without_second_factor(web_hub: RunningHub) -> None:
    reader = add_person(web_hub, "reader1", "VN", "reader")
    with httpx.Client(base_url=web_hub.url, timeout=30) as c:
        sign_in(web_hub, reader, c)
        page = c.get("/")
        assert "Overview for VN" in page.text and "Report an incident" not in page.text
        assert c.get("/report").status_code == 403
