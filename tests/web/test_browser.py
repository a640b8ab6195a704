"""End to end in a real Chromium: sign-in with TOTP, a report through the form, a regional
alert arriving live in another member's browser, the campaign view, what a downstream
organisation never sees, /docs offline, and accessibility basics."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import RunningHub
from tests.correlate.linking import LURES
from tests.web.browser import SCREENSHOTS, browser, only_hub, shot, sign_in_page  # noqa: F401
from tests.web.conftest import add_person

URL = "https://bank-verify-th.example.com/login"


def _labelled_controls(page: Any) -> list[str]:
    """Form controls with no label (or aria-label) on the page."""
    return page.evaluate("""() => Array.from(document.querySelectorAll(
        'input:not([type=hidden]), select, textarea, button')).filter(el => {
          if (el.tagName === 'BUTTON') return !el.textContent.trim() && !el.getAttribute('aria-label');
          return !(el.labels && el.labels.length) && !el.getAttribute('aria-label');
        }).map(el => el.outerHTML)""")


def _tlp_written(page: Any) -> list[str]:
    """TLP marks whose text does not say the level (colour alone)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('.tlp, .tlp-banner'))
        .filter(el => !/TLP:(CLEAR|GREEN|AMBER|AMBER\\+STRICT|RED)/.test(el.textContent))
        .map(el => el.outerHTML)""")


def _accessible(page: Any) -> None:
    assert _labelled_controls(page) == []
    assert _tlp_written(page) == []


@pytest.mark.timeout(300)
def test_report_then_live_alert_in_another_member(web_hub: RunningHub, browser: Any,  # noqa: F811
                                                   ) -> None:
    rh = web_hub
    th = add_person(rh, "somchai", "TH")
    vn = add_person(rh, "an.nguyen", "VN")
    # Malaysia saw the same lure first (through the API)
    my = rh.client("MY")
    r = my.post("/api/v1/reports", json={
        "vector": "phishing", "channel": "sms", "title": "Bank director SMS (MY)",
        "lures": [LURES["th"]], "observables": URL, "countries": ["MY"], "languages": ["th"],
        "tlp": "green"})
    assert r.status_code == 201, r.text

    viet = browser.new_context()
    only_hub(viet, rh.url)
    vpage = viet.new_page()
    sign_in_page(rh, vpage, vn)
    vpage.wait_for_selector("text=Live: new events appear here")
    alerts_before = vpage.locator("#alerts li.fresh").count()

    thai = browser.new_context()
    only_hub(thai, rh.url)
    page = thai.new_page()
    sign_in_page(rh, page, th, shots=True)
    page.get_by_role("link", name="Report an incident").click()
    page.get_by_label("Title").fill("Bank director SMS asking for a transfer")
    page.get_by_label("Threat vector").select_option("phishing")
    page.get_by_label("Channel").select_option("sms")
    page.get_by_label("Lure text").fill(LURES["th"])
    page.get_by_label("Indicators").fill("Link in the SMS: " + URL)
    page.get_by_label("Languages of the lure").fill("th")
    page.get_by_label("TLP:GREEN").check()
    # the observables are shown before submitting
    page.wait_for_selector(f"#found >> text={URL}")
    _accessible(page)
    shot(page, "report-form")
    page.get_by_role("button", name="Submit the report").click()
    page.wait_for_selector("text=Your report was stored.")
    assert "TLP:GREEN" in page.locator(".tlp-banner").inner_text()
    shot(page, "object")

    # Viet Nam's overview receives the regional alert without a reload
    fresh = vpage.locator("#alerts li.fresh")
    fresh.nth(alerts_before).wait_for(timeout=60_000)
    _accessible(vpage)
    shot(vpage, "overview")
    vpage.locator("#alerts li.fresh a", has_text="Open the campaign").first.click()
    vpage.wait_for_selector("text=Crossing borders")
    assert "TH" in vpage.locator(".timeline").inner_text()
    assert "MY" in vpage.locator(".timeline").inner_text()
    assert vpage.locator("a", has_text="Suricata rules").count() == 1
    _accessible(vpage)
    shot(vpage, "campaign")
    vpage.goto(rh.url + "/search?q=director")
    assert vpage.locator("text=Bank director SMS asking for a transfer").count() >= 1
    shot(vpage, "search")
    # a phone-sized screen
    vpage.set_viewport_size({"width": 390, "height": 844})
    vpage.goto(rh.url + "/")
    shot(vpage, "overview-phone")
    viet.close()
    thai.close()


@pytest.mark.timeout(300)
def test_keyboard_reaches_every_action(web_hub: RunningHub, browser: Any) -> None:  # noqa: F811
    th = add_person(web_hub, "somchai", "TH")
    context = browser.new_context()
    page = context.new_page()
    # sign in with the keyboard alone
    page.goto(web_hub.url + "/signin")
    page.keyboard.type(th.username)  # the user name field has focus on arrival
    page.keyboard.press("Tab")
    page.keyboard.type(th.password)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/second-factor")
    _accessible(page)
    page.keyboard.type(th.code(web_hub))
    page.keyboard.press("Enter")
    page.wait_for_url(web_hub.url + "/")
    for path in ("/", "/report", "/search"):
        page.goto(web_hub.url + path)
        _accessible(page)
        wanted = page.evaluate("""() => Array.from(document.querySelectorAll(
            'a[href], button, input:not([type=hidden]), select, textarea'))
            .filter(el => el.offsetParent !== null).length""")
        reached = set()
        for _ in range(wanted + 5):
            page.keyboard.press("Tab")
            reached.add(page.evaluate("() => document.activeElement.outerHTML"))
        missing = page.evaluate("""(reached) => Array.from(document.querySelectorAll(
            'a[href], button, input:not([type=hidden]), select, textarea'))
            .filter(el => el.offsetParent !== null && !reached.includes(el.outerHTML))
            // a radio group is one Tab stop (arrow keys move within it)
            .filter(el => !(el.type === 'radio' && !el.checked))
            .map(el => el.outerHTML)""", list(reached))
        assert missing == [], path
    context.close()


def test_docs_render_with_the_network_blocked(web_hub: RunningHub, browser: Any,  # noqa: F811
                                              ) -> None:
    context = browser.new_context()
    blocked: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(web_hub.url):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.goto(web_hub.url + "/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=60_000)
    assert page.get_by_text("/api/v1/reports", exact=True).count() >= 1
    shot(page, "docs")
    page.goto(web_hub.url + "/redoc")
    page.get_by_role("heading", name="reports").first.wait_for(timeout=60_000)
    assert blocked == []
    context.close()


def test_downstream_never_sees_strict_or_others_red(web_hub: RunningHub,
                                                    browser: Any) -> None:  # noqa: F811
    rh = web_hub
    th = rh.client("TH")
    ids = {}
    for tlp, title, audience in (("amber+strict", "Strictly for members", None),
                                 ("red", "Red for Viet Nam only", ["VN"]),
                                 ("green", "Green for everyone", None)):
        body: dict[str, Any] = {"vector": "phishing", "channel": "sms", "title": title,
                                "lures": [f"{title}: pay now at https://pay-{tlp[:3]}.example.net"],
                                "countries": ["TH"], "tlp": tlp}
        if audience:
            body["audience"] = audience
        r = th.post("/api/v1/reports", json=body)
        assert r.status_code == 201, r.text
        ids[tlp] = r.json()["id"]
    bank = add_person(rh, "bank.analyst", "TH-BANK")
    context = browser.new_context()
    page = context.new_page()
    sign_in_page(rh, page, bank)
    seen = page.content()
    page.goto(rh.url + "/search?q=for")
    seen += page.content()
    assert "Green for everyone" in seen
    for tlp in ("amber+strict", "red"):
        page.goto(rh.url + f"/objects/{ids[tlp]}")
        seen += page.content()
        assert "that you may see" in page.content()
    assert "Strictly for members" not in seen and "Red for Viet Nam only" not in seen
    # signed out: nothing but CLEAR
    anon = browser.new_context()
    p2 = anon.new_page()
    p2.goto(rh.url + f"/objects/{ids['green']}")
    assert "Green for everyone" not in p2.content()
    p2.goto(rh.url + "/search?q=for")
    assert "Green for everyone" not in p2.content()
    context.close()
    anon.close()


def _too_wide(page: Any) -> list[str]:
    """Elements wider than a phone's screen (tables may scroll inside their own box)."""
    return page.evaluate("""() => document.documentElement.scrollWidth <= window.innerWidth + 1
        ? [] : Array.from(document.querySelectorAll('body *'))
          .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1
                  && !(el.parentElement && el.parentElement.closest('.scroll')))
          .map(el => el.outerHTML.slice(0, 120))
          .concat(['page width ' + document.documentElement.scrollWidth])""")


@pytest.mark.timeout(300)
def test_operator_and_member_pages_in_the_browser(web_hub: RunningHub,
                                                  browser: Any) -> None:  # noqa: F811
    import json

    from bayanihan.sandbox.hub_store import HubSandboxStore
    from bayanihan.store import audit

    rh = web_hub
    for org in ("MY", "TH"):
        r = rh.client(org).post("/api/v1/reports", json={
            "vector": "phishing", "channel": "sms", "title": f"Bank director SMS ({org})",
            "lures": [LURES["th"]], "observables": URL, "countries": [org],
            "languages": ["th"], "tlp": "green"})
        assert r.status_code == 201, r.text
    card = json.loads((SCREENSHOTS.parent / "sandbox-cards" / "thai-cv" / "card.json")
                      .read_text())
    run_id = HubSandboxStore(rh.hub.db, audit.Actor.console()).save_run(card, [])

    # Viet Nam's analyst acknowledges the alert and reads the cooperation figures
    vn = add_person(rh, "an.nguyen", "VN")
    context = browser.new_context()
    only_hub(context, rh.url)
    page = context.new_page()
    sign_in_page(rh, page, vn)
    page.locator("#alerts summary", has_text="Defences to deploy").first.click()
    assert page.locator("#alerts a", has_text="Suricata rules").first.is_visible()
    page.get_by_role("button", name="Acknowledge").first.click()
    page.wait_for_selector("text=Acknowledged by VN")
    page.get_by_role("link", name="Cooperation").click()
    page.wait_for_selector("text=Cooperation across the region")
    _accessible(page)
    row = page.locator("tr", has_text="Viet Nam").inner_text()
    assert "1 of 1" in row
    shot(page, "cooperation")
    page.goto(rh.url + "/")
    campaign = page.locator("#alerts a", has_text="Open the campaign").first.get_attribute("href")
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/", "/cooperation", "/report", "/search?q=director", campaign):
        page.goto(rh.url + path)
        assert _too_wide(page) == [], path
    shot(page, "campaign-phone")
    context.close()

    # the hub operator's admin pages and the sandbox
    op = add_person(rh, "operator", "HUB", "admin")
    context = browser.new_context()
    only_hub(context, rh.url)
    page = context.new_page()
    sign_in_page(rh, page, op)
    page.get_by_role("link", name="Admin").click()
    page.wait_for_selector("text=People and keys")
    _accessible(page)
    page.get_by_label("User name").fill("dara")
    page.get_by_label("Organisation", exact=True).first.select_option("KH")
    page.get_by_label("First password").fill("correct horse battery staple")
    page.get_by_role("button", name="Add the user").click()
    page.wait_for_selector("td >> text=dara")
    shot(page, "admin")
    page.get_by_role("link", name="Organisations and webhooks").click()
    page.wait_for_selector("text=Admit an organisation")
    _accessible(page)
    page.get_by_role("link", name="Audit log").click()
    page.wait_for_selector("text=The chain is intact")
    _accessible(page)
    page.get_by_role("link", name="Sandbox", exact=True).first.click()
    page.get_by_role("link", name=run_id).click()
    page.wait_for_selector("text=Grade:")
    _accessible(page)
    shot(page, "sandbox-card")
    page.get_by_label("TLP:GREEN").check()
    page.get_by_role("button", name="Publish the card").click()
    page.wait_for_selector("text=Your report was stored.")
    assert "TLP:GREEN" in page.locator(".tlp-banner").inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/admin", "/admin/orgs", "/admin/audit", f"/sandbox/runs/{run_id}"):
        page.goto(rh.url + path)
        assert _too_wide(page) == [], path
    context.close()
