"""The web board in a real browser (issue 21): headless Chromium from the operating system's
packages, driven by Selenium through the system's chromedriver, against uvicorn on a loopback
port. A whole case: intake and assignment by customer service, the engineer's steps on a
phone-sized screen with the customer's signature drawn on the canvas, and the manager's board
showing the response clock go from running to breached. Screenshots go to
``$AFTERSALES_SCREENSHOTS`` (docs/board/ holds a set) or the test's own folder. Without a
browser the tests skip, except under CI=true, where they fail."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from conftest import RULES

from aftersales import ServiceDesk
from aftersales.http import make_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _browser_or_skip() -> tuple[str, str]:
    if CHROMIUM is None or DRIVER is None:
        reason = "no chromium and chromedriver (apt-get install chromium chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: browser tests may not skip)")
        pytest.skip(reason)
    return CHROMIUM, DRIVER


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Clock:
    """The desk's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[ServiceDesk, str, Clock, dict[str, str]]]:
    clock = Clock()
    desk = ServiceDesk(RULES / "default.policy", f"sqlite:///{tmp_path / 'desk.db'}",
                       clock=clock)  # fmt: skip
    for who, name, role in (("m1", "Zhao", "manager"), ("cs1", "Lin", "service_agent"),
                            ("e7", "Chen", "engineer")):  # fmt: skip
        desk.staff.add(id=who, name=name, roles=[role], at=T0 - timedelta(days=1))
    tokens = {w: desk.tokens.issue(w, by="m1").token for w in ("m1", "cs1", "e7")}
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(make_app(desk), host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield desk, f"http://127.0.0.1:{port}", clock, tokens
    server.should_exit = True
    thread.join(timeout=10)
    desk.close()


@pytest.fixture
def browser() -> Iterator[object]:
    chromium, driver_path = _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1200,900", "--lang=en-US"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("AFTERSALES_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def press(driver: object, element_id: str) -> None:
    """Click a form's button and wait for the page the form leads to (the click returns
    before the server has answered): the old page's marker is gone and the new one loaded."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    d = driver
    d.execute_script("window.__leaving = true")  # type: ignore[attr-defined]
    d.find_element(By.ID, element_id).click()  # type: ignore[attr-defined]

    def arrived(drv: object) -> bool:
        try:
            return bool(
                drv.execute_script(  # type: ignore[attr-defined]
                    "return window.__leaving === undefined && document.readyState === 'complete'"
                )
            )
        except WebDriverException:  # between the two pages
            return False

    WebDriverWait(d, 10).until(arrived)


def sign_in(driver: object, base: str, token: str) -> None:
    from selenium.webdriver.common.by import By

    d = driver
    d.delete_all_cookies()  # type: ignore[attr-defined]
    d.get(f"{base}/board/login")  # type: ignore[attr-defined]
    d.find_element(By.ID, "token").send_keys(token)  # type: ignore[attr-defined]
    press(d, "sign-in")


def test_a_whole_case_through_the_board(
    site: tuple[ServiceDesk, str, Clock, dict[str, str]], browser: object, tmp_path: Path
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    desk, base, clock, tokens = site
    d: object = browser
    out = shots(tmp_path)
    find = d.find_element  # type: ignore[attr-defined]

    # customer service: the intake form, then the queue
    sign_in(d, base, tokens["cs1"])
    assert d.current_url.endswith("/board/intake")  # type: ignore[attr-defined]
    find(By.ID, "customer").send_keys("Hengli Mining")
    find(By.ID, "model").send_keys("EX-350")
    find(By.ID, "fault").send_keys("hydraulic pump leaking")
    Select(find(By.ID, "severity")).select_by_visible_text("major")
    find(By.ID, "contact").send_keys("Wang, site foreman")
    d.save_screenshot(str(out / "intake.png"))  # type: ignore[attr-defined]
    press(d, "report")
    assert "AS-2026-000001" in find(By.ID, "flash").text
    [case] = desk.cases.find()
    assert case.reported_by == "cs1" and case.fault == "hydraulic pump leaking"

    # the manager: the case runs
    sign_in(d, base, tokens["m1"])
    row = find(By.CSS_SELECTOR, "tr.case-row[data-number='AS-2026-000001'] td.risk")
    assert row.text == "running"
    d.save_screenshot(str(out / "manager-running.png"))  # type: ignore[attr-defined]
    clock.now = T0 + timedelta(hours=6)  # nobody answered: 4 working hours gone
    d.refresh()  # type: ignore[attr-defined]
    row = find(By.CSS_SELECTOR, "tr.case-row[data-number='AS-2026-000001'] td.risk")
    assert row.text == "breached"
    d.save_screenshot(str(out / "manager-breached.png"))  # type: ignore[attr-defined]

    # customer service assigns it
    sign_in(d, base, tokens["cs1"])
    Select(find(By.ID, "engineer-AS-2026-000001")).select_by_value("e7")
    d.save_screenshot(str(out / "queue.png"))  # type: ignore[attr-defined]
    press(d, "assign-AS-2026-000001")
    assert desk.cases.get(case.id).engineer == "e7"

    # the engineer, on a phone-sized screen
    d.set_window_size(400, 860)  # type: ignore[attr-defined]
    sign_in(d, base, tokens["e7"])
    assert d.current_url.endswith("/board/mine")  # type: ignore[attr-defined]
    clock.now = T0 + timedelta(hours=6, minutes=10)
    press(d, "confirm-AS-2026-000001")
    d.execute_script(  # type: ignore[attr-defined]
        "document.getElementById('appointment-AS-2026-000001').value = '2026-11-23T17:00'"
    )
    press(d, "contact-AS-2026-000001")
    clock.now = T0 + timedelta(hours=8)
    press(d, "arrive-AS-2026-000001")
    press(d, "checklist-AS-2026-000001")
    find(By.ID, "cause-AS-2026-000001").send_keys("worn pump seal")
    press(d, "diagnose-AS-2026-000001")
    find(By.ID, "actions-AS-2026-000001").send_keys("replaced the seal")
    find(By.ID, "result-AS-2026-000001").send_keys("full load, no leak")
    find(By.ID, "parts-AS-2026-000001").send_keys("SEAL-9:1")
    press(d, "complete-AS-2026-000001")
    assert desk.cases.get(case.id).status == "repaired"
    find(By.ID, "signed-by-AS-2026-000001").send_keys("Wang")
    canvas = find(By.ID, "signature-AS-2026-000001")
    strokes = ActionChains(d).move_to_element_with_offset(canvas, -120, 10).click_and_hold()
    for dx, dy in ((30, -20), (30, 25), (30, -25), (30, 20), (40, -5)):
        strokes = strokes.move_by_offset(dx, dy)
    strokes.release().perform()
    d.save_screenshot(str(out / "engineer-signature.png"))  # type: ignore[attr-defined]
    press(d, "accept-AS-2026-000001")
    accepted = desk.cases.get(case.id)
    assert accepted.status == "accepted" and accepted.acceptance is not None
    assert accepted.acceptance.signed_by == "Wang" and accepted.acceptance.signature
    assert [e.by for e in desk.cases.history(case.id)][-1] == "e7"
    html = desk.cases.report_document(case.id, format="html").decode()
    assert "data:image/png;base64," in html  # the drawn signature is on the report

    # the manager again, in Chinese
    d.set_window_size(1200, 900)  # type: ignore[attr-defined]
    sign_in(d, base, tokens["m1"])
    d.get(f"{base}/board?lang=zh")  # type: ignore[attr-defined]
    assert "售后看板" in d.title  # type: ignore[attr-defined]
    d.save_screenshot(str(out / "manager-zh.png"))  # type: ignore[attr-defined]


def test_the_board_refuses_a_bad_token_and_a_stale_page(
    site: tuple[ServiceDesk, str, Clock, dict[str, str]], browser: object
) -> None:
    from selenium.webdriver.common.by import By

    desk, base, _, tokens = site
    d: object = browser
    sign_in(d, base, "as_nope_nothing")
    assert "/board/login" in d.current_url  # type: ignore[attr-defined]
    d.get(f"{base}/board")  # type: ignore[attr-defined]
    assert "/board/login" in d.current_url  # type: ignore[attr-defined]
    sign_in(d, base, tokens["cs1"])
    find = d.find_element  # type: ignore[attr-defined]
    find(By.ID, "customer").send_keys("Hengli Mining")
    find(By.ID, "fault").send_keys("leak")
    press(d, "report")
    [case] = desk.cases.find()
    d.get(f"{base}/board/intake")  # type: ignore[attr-defined]
    desk.cases.respond(case.id, by="cs1")  # someone else acts while the page is open
    press(d, "assign-AS-2026-000001")
    assert "changed since this page was loaded" in find(By.ID, "flash").text
    assert desk.cases.get(case.id).engineer is None
