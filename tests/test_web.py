"""The 报送平台 over HTTP (Starlette's TestClient): codes, sign-in, an upload answered with what `validate` says
of that file, the file kept whole in the inbox under a server-made name with its upload time, the live
roster, the one-click job; and every refusal (size, type, name, hostile file, CSRF, Origin, another group's
file, wrong codes), each leaving nothing stored."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from xladdin.base.clock import local_time
from xladdin.cli import main
from xladdin.demo import MASTER_NAME, registry_rows
from xladdin.engine.operations import Engine
from xladdin.engine.platform import hash_code, normalize_code
from xladdin.web import serve_launcher
from xladdin.web.app import create_app
from xladdin.workbook.build import build_master

from .conftest import AS_OF
from .corpus import _zip_bomb
from .ledgers import DATE, GROUP, ledger

OTHER = "高铁新区工作组"
NOON = dt.datetime.combine(AS_OF, dt.time(10, 30))
BASE = "http://testserver"


class Clock:
    """The server's now, moved by the test."""

    def __init__(self, at: dt.datetime):
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


def fresh_master(tmp_path: Path) -> Path:
    folder = tmp_path / f"攻坚指挥部{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    return build_master(folder / MASTER_NAME, registry_rows(AS_OF))


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    """A new master over the demo registry with its codes issued, made once per worker (scrypt per code):
    (its folder, codes by holder). Copy it, never change it."""
    master = fresh_master(tmp_path_factory.mktemp("issued"))
    return master.parent, {c.holder: c.code for c in Engine.on_file(master).codes(now=NOON)}


@pytest.fixture
def campaign(tmp_path, issued):
    """A new master over the demo registry, nothing reported yet, codes issued: (master, codes by holder)."""
    folder, codes = issued
    shutil.copytree(folder, tmp_path / folder.name)  # the folder fresh_master(tmp_path) would make
    return tmp_path / folder.name / MASTER_NAME, dict(codes)


@pytest.fixture
def clock():
    return Clock(NOON)


@pytest.fixture
def client(campaign, clock):
    master, _ = campaign
    with TestClient(create_app(master, clock), base_url=BASE) as http:
        yield http


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def sign_in(http: TestClient, holder: str, code: str):
    page = http.get("/")
    return http.post("/login", data={"holder": holder, "code": code, "csrf": csrf_of(page.text)},
                     headers={"Origin": BASE}, follow_redirects=False)


def upload_page(http: TestClient, path: Path, name: str | None = None, csrf: str | None = None, origin=BASE):
    token = csrf if csrf is not None else csrf_of(http.get("/group").text)
    headers = {"Origin": origin} if origin else {}
    return http.post("/group/upload", data={"csrf": token}, headers=headers,
                     files={"file": (name or path.name, path.read_bytes(), "application/octet-stream")})


def api_upload(http: TestClient, code: str, content: bytes, name: str = "台账.xlsx"):
    """POST /api/submissions with the file name sent as is, bytes and all (a client library would escape some)."""
    boundary = "xladdin-test-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n").encode("utf-8") + content + \
        f"\r\n--{boundary}--\r\n".encode()
    return http.post("/api/submissions", content=body, headers={
        "Authorization": f"Bearer {code}", "Content-Type": f"multipart/form-data; boundary={boundary}"})


def inbox_of(master: Path) -> list[Path]:
    folder = master.parent / "报送"
    return sorted(p for p in folder.iterdir()) if folder.exists() else []


def stored_uploads(master: Path) -> list[tuple]:
    db = sqlite3.connect(master.parent / "历史库.sqlite")
    try:
        return db.execute("SELECT file_name, client_name, group_name, uploaded_at, address, sha256, size, status"
                          " FROM uploads ORDER BY upload_id").fetchall()
    finally:
        db.close()


def validate_json(master: Path, as_of: dt.date) -> dict:
    done = CliRunner().invoke(main, ["validate", str(master), "--as-of", as_of.isoformat(), "--json"])
    assert done.exit_code == 0, done.output
    return {f["file"]: f for f in json.loads(done.output)["files"]}


# -- codes ---------------------------------------------------------------------------------------------------

def test_codes_are_issued_once_stored_hashed_and_replaced_with_new(campaign, tmp_path):
    master, codes = campaign
    assert set(codes) == {"", "高铁新区工作组", "工业园区工作组", GROUP, "滨江片区工作组", "交通项目工作组", "民生工程工作组"}
    assert all(re.fullmatch(r"[2-9A-HJKMNP-Z]{5}(-[2-9A-HJKMNP-Z]{5}){1,2}", c) for c in codes.values())
    db = sqlite3.connect(master.parent / "历史库.sqlite")
    stored = dict(db.execute("SELECT holder, code_hash FROM access_codes").fetchall())
    salt = db.execute("SELECT salt FROM code_salt").fetchone()[0]
    db.close()
    dump = (master.parent / "历史库.sqlite").read_bytes()
    for holder, code in codes.items():
        assert normalize_code(code).encode() not in dump and code.encode() not in dump  # never in clear
        assert stored[holder] == hash_code(code, salt)
    first = json.loads(CliRunner().invoke(main, ["codes", str(fresh_master(tmp_path)), "--json"]).output)
    assert first["codes"]["指挥部"] == first["admin"]["code"] and len(first["codes"]) == 7
    assert all(first["codes"][g["holder"]] == g["code"] for g in first["groups"])
    again = CliRunner().invoke(main, ["codes", str(master), "--json"])
    shown = json.loads(again.output)
    assert again.exit_code == 0 and shown["admin"]["code"] is None and not any(g["code"] for g in shown["groups"])
    renewed = json.loads(CliRunner().invoke(main, ["codes", str(master), "--new", "--json"]).output)
    fresh = {g["holder"]: g["code"] for g in renewed["groups"]} | {"": renewed["admin"]["code"]}
    assert set(fresh) == set(codes) and all(fresh[h] != codes[h] for h in codes)
    engine = Engine.on_file(master)
    assert engine.code_holder(codes[GROUP]) is None
    assert engine.code_holder(fresh[GROUP].lower().replace("-", " "))[0] == GROUP  # typed loosely, still the code


def test_a_new_code_ends_the_groups_sessions(campaign, client):
    master, codes = campaign
    assert sign_in(client, GROUP, codes[GROUP]).status_code == 303
    assert client.get("/group").status_code == 200
    Engine.on_file(master).codes(now=NOON, renew=True)
    after = client.get("/group", follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"] == "/"


# -- signing in ----------------------------------------------------------------------------------------------

def test_sign_in_sets_an_httponly_strict_cookie_and_a_wrong_code_is_refused(campaign, client):
    _, codes = campaign
    wrong = sign_in(client, GROUP, codes[OTHER])  # another group's code is not this group's
    assert wrong.status_code == 401 and "报送码不正确" in wrong.text
    done = sign_in(client, GROUP, codes[GROUP])
    assert done.status_code == 303 and done.headers["location"] == "/group"
    cookie = done.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/hq", follow_redirects=False).status_code == 403  # a group is not HQ


def test_sign_in_attempts_are_limited_per_group(campaign, client):
    _, codes = campaign
    for _ in range(5):
        assert sign_in(client, GROUP, "AAAAA-BBBBB").status_code == 401
    blocked = sign_in(client, GROUP, codes[GROUP])  # even the right code waits now
    assert blocked.status_code == 429 and "尝试次数过多" in blocked.text
    assert sign_in(client, OTHER, codes[OTHER]).status_code == 303  # another group is not held up


def test_sign_in_attempts_are_limited_per_address(campaign, client):
    _, codes = campaign
    groups = [g for g in codes if g]
    for attempt in range(20):
        sign_in(client, groups[attempt % len(groups)], "AAAAA-BBBBB")
    assert sign_in(client, OTHER, codes[OTHER]).status_code == 429


def test_sign_in_without_csrf_or_from_another_site_is_refused(campaign, client):
    _, codes = campaign
    client.get("/")
    missing = client.post("/login", data={"holder": GROUP, "code": codes[GROUP]}, headers={"Origin": BASE})
    assert missing.status_code == 403 and "安全校验码" in missing.text
    token = csrf_of(client.get("/").text)
    foreign = client.post("/login", data={"holder": GROUP, "code": codes[GROUP], "csrf": token},
                          headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403 and "其他网站" in foreign.text


# -- a group uploads -----------------------------------------------------------------------------------------

def test_a_good_ledger_is_received_kept_whole_under_a_server_name_with_its_upload_time(campaign, client, tmp_path):
    master, codes = campaign
    sign_in(client, GROUP, codes[GROUP])
    good = ledger(tmp_path / "local", "../../我的台账.xlsx".replace("../../", ""))
    answer = upload_page(client, good)
    assert answer.status_code == 200 and "已接收（待汇总）" in answer.text
    (kept,) = inbox_of(master)
    assert kept.name.startswith(f"{GROUP}_20261124-103000_") and kept.suffix == ".xlsx"
    assert kept.read_bytes() == good.read_bytes()
    assert local_time(kept.stat().st_mtime, "UTC+8") == NOON  # its arrival is the upload, in HQ's time
    (row,) = stored_uploads(master)
    import hashlib
    assert row == (kept.name, "我的台账.xlsx", GROUP, NOON.isoformat(), "testclient",
                   hashlib.sha256(good.read_bytes()).hexdigest(), good.stat().st_size, "已接收")
    assert "我的台账.xlsx" in client.get("/group").text  # listed among the group's submissions this period


def test_a_bad_ledger_is_returned_with_every_problem_pinned_to_its_cell_and_a_marked_up_copy(campaign, client,
                                                                                                tmp_path):
    master, codes = campaign
    sign_in(client, GROUP, codes[GROUP])
    bad = ledger(tmp_path / "local", "坏台账.xlsx", acquired=-3.0)
    answer = upload_page(client, bad)
    assert answer.status_code == 200 and "退回" in answer.text
    (kept,) = inbox_of(master)
    expected = validate_json(master, AS_OF)[kept.name]  # what `xladdin validate --json` says of the kept file
    assert expected["status"] == "已退回" and expected["errors"] >= 4
    for issue in expected["issues"]:
        assert f"{issue['sheet']}!{issue['cell']}" in answer.text and issue["message"] in answer.text
    link = re.search(r'href="(/group/submissions/\d+/returned)"', answer.text).group(1)
    copy = client.get(link)
    assert copy.status_code == 200 and "attachment" in copy.headers["content-disposition"]
    assert zipfile.ZipFile(io.BytesIO(copy.content)).namelist()  # a workbook
    assert (master.parent / "退回" / f"{kept.stem}_退回.xlsx").read_bytes() == copy.content


def test_the_api_answers_what_validate_json_says_of_the_stored_file(campaign, client, tmp_path):
    master, codes = campaign
    files = [ledger(tmp_path / "a", "一.xlsx", date=DATE - dt.timedelta(days=1), acquired=5.0),
             ledger(tmp_path / "b", "二.xlsx", date=DATE, acquired=4.0),  # smaller than the day before: returned
             ledger(tmp_path / "c", "三.xlsx", date=DATE, acquired=6.0, houses_agreed=1, houses_demolished=3)]
    answers = []
    for number, path in enumerate(files):
        client.app.state.platform.clock = Clock(NOON + dt.timedelta(minutes=number))
        reply = api_upload(client, codes[GROUP], path.read_bytes(), path.name)
        assert reply.status_code == 200, reply.text
        answers.append(reply.json())
    expected = validate_json(master, AS_OF)
    for answer in answers:
        mine = expected[answer["file"]]
        assert answer["status"] == mine["status"]
        assert answer["issues"] == mine["issues"]
        assert answer["stored"] is True and answer["upload_id"]
    assert [a["status"] for a in answers] == ["已接收", "已退回", "已退回"]
    codes_of = {a["file"]: {i["code"] for i in a["issues"]} for a in answers}
    assert "cumulative-decreased" in codes_of[answers[1]["file"]]
    assert "demolished-exceeds-agreed" in codes_of[answers[2]["file"]]
    listed = client.get("/api/submissions", headers={"Authorization": f"Bearer {codes[GROUP]}"}).json()
    assert [s["file"] for s in listed["submissions"]] == [a["file"] for a in reversed(answers)]
    one = client.get(f"/api/submissions/{answers[1]['upload_id']}",
                     headers={"Authorization": f"Bearer {codes[GROUP]}"}).json()
    assert one["issues"] == answers[1]["issues"]


def test_the_same_file_twice_is_not_kept_twice(campaign, client, tmp_path):
    master, codes = campaign
    good = ledger(tmp_path, "好.xlsx").read_bytes()
    assert api_upload(client, codes[GROUP], good).status_code == 200
    client.app.state.platform.clock = Clock(NOON + dt.timedelta(minutes=5))
    again = api_upload(client, codes[GROUP], good, "再传一次.xlsx")
    assert again.status_code == 200 and again.json()["stored"] is False and again.json()["verdict"] == "重复"
    assert len(inbox_of(master)) == 1 and len(stored_uploads(master)) == 1


# -- refusals: nothing stored --------------------------------------------------------------------------------

def _nothing_stored(master: Path) -> None:
    assert inbox_of(master) == [] and stored_uploads(master) == []
    returned = master.parent / "退回"
    assert not returned.exists() or not any(returned.iterdir())


def test_an_upload_over_the_size_limit_is_refused_with_413_before_it_is_stored(campaign, client):
    master, codes = campaign
    big = b"PK\x03\x04" + os.urandom(10 * 2**20 + 1)
    answer = api_upload(client, codes[GROUP], big)
    assert answer.status_code == 413 and "10 MB" in answer.json()["error"]
    sign_in(client, GROUP, codes[GROUP])
    page = client.post("/group/upload", data={"csrf": csrf_of(client.get("/group").text)},
                       headers={"Origin": BASE}, files={"file": ("大.xlsx", big, "application/octet-stream")})
    assert page.status_code == 413 and "上传上限" in page.text
    _nothing_stored(master)


def test_a_declared_length_over_the_limit_is_refused_unread(campaign, client):
    master, codes = campaign
    answer = client.post("/api/submissions", content=b"x" * 10,
                         headers={"Authorization": f"Bearer {codes[GROUP]}", "Content-Length": str(11 * 2**20),
                                  "Content-Type": "multipart/form-data; boundary=x"})
    assert answer.status_code == 413
    _nothing_stored(master)


@pytest.mark.parametrize("name, status", [
    ("台账.docx", 415), ("台账.ods", 415), ("台账", 415), ("../台账.xlsx", 400), ("a/b.xlsx", 400),
    ("..\\台账.xlsx", 400), ("台\x07账.xlsx", 400), ("台账\x1b.xlsx", 400), ("台账\x7f.xlsx", 400)])
def test_names_and_types_other_than_a_ledgers_are_refused(campaign, client, tmp_path, name, status):
    master, codes = campaign
    answer = api_upload(client, codes[GROUP], ledger(tmp_path, "t.xlsx").read_bytes(), name)
    assert answer.status_code == status and answer.json()["error"]
    _nothing_stored(master)


def test_broken_and_hostile_workbooks_are_refused_and_nothing_is_stored(campaign, client, tmp_path):
    master, codes = campaign
    good = ledger(tmp_path, "t.xlsx").read_bytes()
    bomb = _zip_bomb(good)
    cases = {"炸弹.xlsx": (bomb, "file-too-large"), "坏的.xlsx": (b"PK\x03\x04 not really a zip", "file-unreadable"),
             "密码.xlsx": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le") + b"\0" * 600,
                         "password-protected"),
             "文本.xls": (b"just some text", "file-unreadable")}
    for name, (content, code) in cases.items():
        answer = api_upload(client, codes[GROUP], content, name)
        assert answer.status_code == 422, (name, answer.text)
        body = answer.json()
        assert body["stored"] is False and body["verdict"] == "拒收" and body["message"]
        assert code in {i["code"] for i in body["issues"]}, (name, body["issues"])
    _nothing_stored(master)


def test_a_ledger_of_another_group_is_refused(campaign, client, tmp_path):
    master, codes = campaign
    theirs = ledger(tmp_path, "t.xlsx", group=OTHER).read_bytes()
    answer = api_upload(client, codes[GROUP], theirs)
    assert answer.status_code == 422 and OTHER in answer.json()["message"]
    _nothing_stored(master)


def test_an_upload_without_csrf_or_from_another_origin_is_refused(campaign, client, tmp_path):
    master, codes = campaign
    sign_in(client, GROUP, codes[GROUP])
    good = ledger(tmp_path, "t.xlsx")
    assert upload_page(client, good, csrf="forged").status_code == 403
    foreign = upload_page(client, good, origin="http://evil.example")
    assert foreign.status_code == 403 and "其他网站" in foreign.text
    client.cookies.clear()
    assert "登录报送平台" in upload_page(client, good, csrf="x").text  # not signed in: sent to sign in
    api = client.post("/api/submissions", headers={"Authorization": f"Bearer {codes[GROUP]}",
                                                    "Origin": "http://evil.example"},
                      files={"file": ("t.xlsx", good.read_bytes(), "application/octet-stream")})
    assert api.status_code == 403
    _nothing_stored(master)


def test_another_groups_submission_is_not_shown(campaign, client, tmp_path):
    master, codes = campaign
    bad = ledger(tmp_path, "t.xlsx", acquired=-1.0).read_bytes()
    theirs = api_upload(client, codes[GROUP], bad).json()["upload_id"]
    headers = {"Authorization": f"Bearer {codes[OTHER]}"}
    assert client.get(f"/api/submissions/{theirs}", headers=headers).status_code == 404
    assert client.get("/api/submissions", headers=headers).json()["submissions"] == []
    sign_in(client, OTHER, codes[OTHER])
    assert client.get(f"/group/submissions/{theirs}").status_code == 404
    assert client.get(f"/group/submissions/{theirs}/returned").status_code == 404
    assert client.get("/group/submissions/abc").status_code in (404,)


def test_the_api_refuses_missing_wrong_and_misused_codes(campaign, client, tmp_path):
    _, codes = campaign
    good = ledger(tmp_path, "t.xlsx").read_bytes()
    assert client.post("/api/submissions", files={"file": ("t.xlsx", good)}).status_code == 401
    assert api_upload(client, "AAAAA-BBBBB", good).status_code == 401
    assert api_upload(client, codes[""], good).status_code == 403  # the 管理码 does not report
    assert client.post("/api/run", headers={"Authorization": f"Bearer {codes[GROUP]}"}).status_code == 403
    for _ in range(20):
        api_upload(client, "AAAAA-BBBBB", good)
    assert api_upload(client, codes[GROUP], good).status_code == 429  # this address waits now


# -- HQ ------------------------------------------------------------------------------------------------------

def test_hq_sees_the_roster_change_as_groups_upload_and_after_the_cutoff(campaign, client, tmp_path):
    master, codes = campaign
    sign_in(client, "指挥部", codes[""])
    roster = client.get("/hq/roster").text
    assert re.search(rf"<td>{GROUP}</td>\s*<td><span class=\"tag\">未报</span>", roster)
    api_upload(client, codes[GROUP], ledger(tmp_path / "a", "t.xlsx", date=AS_OF, acquired=-1.0).read_bytes())
    assert re.search(rf"<td>{GROUP}</td>\s*<td><span class=\"tag\">退回未改</span>", client.get("/hq/roster").text)
    client.app.state.platform.clock = Clock(dt.datetime.combine(AS_OF, dt.time(21, 30)))
    api_upload(client, codes[GROUP], ledger(tmp_path / "b", "t.xlsx", date=AS_OF).read_bytes())
    roster = client.get("/hq/roster").text
    assert re.search(rf"<td>{GROUP}</td>\s*<td><span class=\"tag\">已更正</span> <span class=\"tag late\">逾时</span>",
                     roster)
    assert "21:30" in roster


def test_one_click_from_hq_runs_the_job_and_says_so_plainly_when_the_master_is_open(campaign, client, tmp_path):
    master, codes = campaign
    api_upload(client, codes[GROUP], ledger(tmp_path, "t.xlsx", date=AS_OF).read_bytes())
    sign_in(client, "指挥部", codes[""])
    owner = master.parent / f"~${master.name}"
    owner.write_text("someone")  # Excel's owner file: the master is open
    token = csrf_of(client.get("/hq").text)
    before = master.read_bytes()
    page = client.post("/hq/run", data={"csrf": token}, headers={"Origin": BASE})
    assert page.status_code == 200 and "正在被 Excel 或 WPS 打开" in page.text and "母表和历史库均未改动" in page.text
    assert master.read_bytes() == before
    api = client.post("/api/run", headers={"Authorization": f"Bearer {codes['']}"})
    assert api.status_code == 409 and "正在被 Excel 或 WPS 打开" in api.json()["error"]
    owner.unlink()
    page = client.post("/hq/run", data={"csrf": token}, headers={"Origin": BASE})
    assert "一键汇总完成" in page.text and "新接收 1 个" in page.text
    assert "红黑榜" in page.text and GROUP in page.text
    assert re.search(rf"<td>{GROUP}</td>\s*<td><span class=\"tag\">已报</span>", page.text)
    listed = client.get("/api/submissions", headers={"Authorization": f"Bearer {codes[GROUP]}"}).json()
    assert listed["submissions"][0]["standing"] == "已接收"  # decided by the run now
    again = client.post("/api/run", headers={"Authorization": f"Bearer {codes['']}"})
    assert again.status_code == 200 and again.json()["already_processed"] == 1


def test_one_click_while_another_run_writes_is_refused_plainly(campaign, client):
    master, codes = campaign
    lock = master.with_name(f".~{master.name}.lock")
    lock.write_text(str(os.getpid()))  # a live run holds the master
    try:
        api = client.post("/api/run", headers={"Authorization": f"Bearer {codes['']}"})
    finally:
        lock.unlink()
    assert api.status_code == 409 and "另一次汇总正在写入母表" in api.json()["error"]


def test_hq_run_without_csrf_is_refused(campaign, client):
    master, codes = campaign
    sign_in(client, "指挥部", codes[""])
    before = master.read_bytes()
    assert client.post("/hq/run", data={}, headers={"Origin": BASE}).status_code == 403
    assert master.read_bytes() == before


def test_pages_use_no_outside_asset_and_work_without_script(campaign, client):
    _, codes = campaign
    sign_in(client, GROUP, codes[GROUP])
    for page in (client.get("/group").text, client.get("/").text):
        assert not re.search(r'(src|href)="(https?:)?//', page)
        assert 'enctype="multipart/form-data"' in page or "/login" in page or "退出" in page
    assert client.get("/static/style.css").status_code == 200 and client.get("/static/app.js").status_code == 200


def test_the_launcher_serves_the_master_to_the_intranet():
    text = serve_launcher("指挥部母表.xlsm")
    assert "\r\n" in text and text.encode("gbk")
    assert 'xladdin serve "指挥部母表.xlsm" --host 0.0.0.0' in text


def test_an_older_store_gains_the_platform_tables(campaign, tmp_path):
    master, _ = campaign
    copy = tmp_path / "old.sqlite"
    shutil.copy(master.parent / "历史库.sqlite", copy)
    db = sqlite3.connect(copy)
    db.executescript("DROP TABLE uploads; DROP TABLE access_codes; DROP TABLE code_salt; PRAGMA user_version=2;")
    db.close()
    from xladdin.store.history import SCHEMA_VERSION, Store
    store = Store(copy)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.uploads() == [] and store.access_codes() == {}
    store.close()


def test_an_upload_while_a_run_holds_the_store_waits_for_it_and_is_kept(campaign, client, tmp_path):
    master, codes = campaign
    import threading
    import time
    held = threading.Event()

    def writer() -> None:  # a run elsewhere: the store's write lock for a second and a half
        db = sqlite3.connect(master.parent / "历史库.sqlite")
        db.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(1.5)
        db.rollback()
        db.close()

    thread = threading.Thread(target=writer)
    thread.start()
    held.wait()
    answer = api_upload(client, codes[GROUP], ledger(tmp_path, "t.xlsx").read_bytes())
    thread.join()
    assert answer.status_code == 200 and answer.json()["status"] == "已接收"
    assert len(inbox_of(master)) == 1 and len(stored_uploads(master)) == 1


def test_serve_prints_the_address_staff_type_answers_and_stops_on_ctrl_c(campaign):
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    master, _ = campaign
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "xladdin.cli", "serve", str(master), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.2)
        assert "登录报送平台" in page and GROUP in page
    finally:
        server.send_signal(signal.SIGINT)
        out, _ = server.communicate(timeout=30)
    assert server.returncode == 0
    assert f"http://127.0.0.1:{port}/" in out and "报送平台已停止" in out and "Traceback" not in out


def test_hq_downloads_the_notices_issued_to_the_archive_and_nothing_else(campaign, client, tmp_path):
    master, codes = campaign
    api_upload(client, codes[GROUP], ledger(tmp_path, "t.xlsx", date=AS_OF).read_bytes())
    engine = Engine.on_file(master)
    engine.run(as_of=AS_OF)
    engine.notice(as_of=AS_OF, issue=True)
    sign_in(client, "指挥部", codes[""])
    page = client.get("/hq").text
    link = re.search(r'href="(/hq/notices/[^"]+)"', page).group(1)
    word = client.get(link)
    assert word.status_code == 200 and word.content[:2] == b"PK"  # the .docx in 通报存档
    assert client.get("/hq/notices/..%2F指挥部母表.xlsm").status_code == 404
    assert client.get("/hq/notices/历史库.sqlite").status_code == 404
    assert "督查日报" in page and "今日报送" in page
