"""Screenshots of the 报送平台 as staff see it, into docs/web/ (needs Debian's chromium; Playwright for Python):

    .venv/bin/python docs/render_web.py

The demo campaign run up to 2026-11-24 (a 督查日报 issued to 通报存档); on the 25th three groups have uploaded
good ledgers, 城南片区工作组 one with mistakes, two nothing yet; the server's clock stands at 18:40.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import openpyxl
import uvicorn
from playwright.sync_api import sync_playwright

from xladdin.demo import MASTER_NAME, build_demo
from xladdin.engine.operations import Engine
from xladdin.web.app import create_app

OUT = Path(__file__).resolve().parent / "web"
DAY = dt.date(2026, 11, 25)
NOW = dt.datetime.combine(DAY, dt.time(18, 40))
UPLOADS = (("高铁新区工作组", "08:55"), ("工业园区工作组", "09:40"), ("城南片区工作组", "10:15"), ("滨江片区工作组", "10:30"))
SPOILED = "城南片区工作组"


def campaign(folder: Path) -> tuple[Path, dict[str, str]]:
    build_demo(folder, DAY)
    held = folder / "待上传"
    held.mkdir()
    for path in (folder / "报送").glob(f"*_{DAY:%m%d}.xlsx"):
        path.rename(held / path.name)
    master = folder / MASTER_NAME
    engine = Engine.on_file(master)
    engine.run(as_of=DAY - dt.timedelta(days=1))
    engine.notice(as_of=DAY - dt.timedelta(days=1), issue=True)
    codes = {c.holder: c.code for c in engine.codes(now=NOW - dt.timedelta(hours=12))}
    for group, at in UPLOADS:
        path = held / f"{group}_{DAY:%m%d}.xlsx"
        if group == SPOILED:  # a typo and a figure that went down
            book = openpyxl.load_workbook(path)
            sheet = book.active
            sheet["E6"] = "约12"
            sheet["L5"] = 0
            book.save(path)
        when = dt.datetime.combine(DAY, dt.time.fromisoformat(at))
        engine.accept_upload(path, client_name=f"{group}进度台账{DAY:%m%d}.xlsx", group=group,
                             address="10.12.0.31", at=when)
    return master, codes


def main() -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("需要 chromium：apt-get install -y chromium fonts-noto-cjk")
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        master, codes = campaign(Path(tmp) / "攻坚指挥部")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(master, lambda: NOW), host="127.0.0.1", port=port,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--lang=zh-CN"],
                                                env=os.environ | {"LANG": "zh_CN.UTF-8", "LANGUAGE": "zh_CN"})
                page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
                page.goto(url + "/")
                page.screenshot(path=OUT / "报送平台-登录.png")
                for holder, code, shot in ((SPOILED, codes[SPOILED], "报送平台-工作组.png"),
                                           ("指挥部", codes[""], "报送平台-指挥部.png")):
                    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
                    page = context.new_page()
                    page.goto(url + "/")
                    page.select_option("#holder", holder)
                    page.fill("#code", code)
                    with page.expect_navigation():
                        page.click("button:has-text('登录')")
                    if holder == SPOILED:
                        page.click("table.list tbody tr >> text=查看")
                    page.screenshot(path=OUT / shot, full_page=True)
                    context.close()
                browser.close()
        finally:
            server.should_exit = True
            thread.join(10)
    for name in sorted(OUT.glob("*.png")):
        print(name.relative_to(OUT.parent.parent))


if __name__ == "__main__":
    main()
