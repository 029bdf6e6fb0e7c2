"""The 报送平台 in a real browser: Debian's chromium driven by Playwright, the server on 127.0.0.1 on a free port.
A group signs in, uploads a bad ledger by dragging it onto the page and a corrected one with the file picker,
reads each verdict, downloads the marked-up copy; HQ watches its roster change without reloading and runs
一键汇总. Skipped only where chromium (or Playwright) is absent; the README's test command installs chromium."""

from __future__ import annotations

import base64
import datetime as dt
import io
import shutil
import socket
import threading
import time
import zipfile

import pytest
from playwright import sync_api as playwright

from xladdin.demo import MASTER_NAME, registry_rows
from xladdin.engine.operations import Engine
from xladdin.web.app import create_app
from xladdin.workbook.build import build_master

from .conftest import AS_OF, needs
from .ledgers import GROUP, ledger

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _chromium():
    if CHROMIUM is None:
        needs("chromium")  # skipped on a machine without it, a failure under CI

NOON = dt.datetime.combine(AS_OF, dt.time(10, 30))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """uvicorn serving the app in a thread of this process, on 127.0.0.1."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def served(tmp_path):
    folder = tmp_path / "攻坚指挥部"
    folder.mkdir()
    master = build_master(folder / MASTER_NAME, registry_rows(AS_OF))
    codes = {c.holder: c.code for c in Engine.on_file(master).codes(now=NOON)}
    with Server(create_app(master, lambda: NOON)) as url:
        yield url, master, codes


@pytest.fixture
def browser():
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


def sign_in(page, url: str, holder: str, code: str) -> None:
    page.goto(url + "/")
    page.select_option("#holder", holder)
    page.fill("#code", code)
    with page.expect_navigation():
        page.click("button:has-text('登录')")


def roster_status(page, group: str) -> str:
    return page.locator("#roster tr", has_text=group).locator(".tag").first.inner_text()


def drop_file(page, name: str, content: bytes) -> None:
    """Drag a file onto the drop zone, as a clerk drags it from the desktop."""
    with page.expect_navigation():
        page.evaluate("""([name, data]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name));
            document.getElementById('drop').dispatchEvent(
                new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }""", [name, base64.b64encode(content).decode()])


def test_a_group_uploads_and_hq_watches_the_roster_and_runs_the_job(served, browser, tmp_path):
    url, master, codes = served
    hq = browser.new_context(accept_downloads=True).new_page()
    sign_in(hq, url, "指挥部", codes[""])
    assert "今日报送情况" in hq.inner_text("h1")
    assert roster_status(hq, GROUP) == "未报"

    group = browser.new_context(accept_downloads=True).new_page()
    sign_in(group, url, GROUP, codes[GROUP])
    assert group.inner_text("h1") == GROUP

    bad = ledger(tmp_path / "bad", "城南台账.xlsx", date=AS_OF, acquired=-2.0)
    drop_file(group, bad.name, bad.read_bytes())
    assert group.inner_text(".verdict-word") == "退回"
    cells = group.locator("table.issues td.cell").all_inner_texts()
    assert "进度台账!E5" in cells and all(c.startswith("进度台账!") for c in cells)
    assert "累计数不能小于 0" in group.inner_text("table.issues")
    with group.expect_download() as download:
        group.click("text=下载标注了问题的退回副本")
    copy = download.value
    assert copy.suggested_filename.endswith("_退回.xlsx")
    assert "xl/worksheets/sheet1.xml" in zipfile.ZipFile(io.BytesIO(open(copy.path(), "rb").read())).namelist()

    hq.wait_for_function(f"document.querySelector('#roster').innerText.includes('{GROUP}\\t退回未改')",
                         timeout=15000)  # refreshed in place, no reload

    good = ledger(tmp_path / "good", "城南台账-改.xlsx", date=AS_OF, acquired=12.0)
    group.set_input_files("#file", str(good))
    with group.expect_navigation():
        group.click("#submit")
    assert group.inner_text(".verdict-word") == "已接收（待汇总）"
    rows = group.locator("table.list tbody tr").all_inner_texts()
    assert len(rows) == 2 and "城南台账-改.xlsx" in rows[0] and "城南台账.xlsx" in rows[1]

    hq.wait_for_function(f"document.querySelector('#roster').innerText.includes('{GROUP}\\t已更正')", timeout=15000)
    with hq.expect_navigation():
        hq.click("#run")
    message = hq.inner_text("#run-message")
    assert "一键汇总完成" in message and "新接收 1 个" in message and "退回 1 个" in message
    assert GROUP in hq.inner_text("table.ranking")
    group.reload()
    assert "已接收" in group.locator("table.list tbody tr").first.inner_text()  # decided by the run now
