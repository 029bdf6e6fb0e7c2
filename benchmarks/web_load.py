"""Load on the 报送平台: 100 work groups upload their ledger within one minute (not a test; figures in README).

    python -m benchmarks.web_load                # 100 groups, spread evenly over 60 s
    python -m benchmarks.web_load --burst        # all 100 at the same moment (the worst minute)

A master of N groups (tests/campaigns.generate, 10 projects each) and its codes; `xladdin serve` in its own
process on 127.0.0.1 on a free port; one client thread per group posts its ledger to /api/submissions with its
报送码 at its moment and times the answer. Then it checks that none is lost and each was checked once: one
200 per group, one file per group in the inbox (its bytes the ledger's, its SHA-256 the one recorded), one
row per group in the store's uploads, and `xladdin validate --json` giving each stored file the status the
upload was answered with. Reports the feedback time (request to verdict) p50, p95 and max.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

from tests.campaigns import generate  # shared with the tests

TARGET_P95 = 2.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(url: str, code: str, name: str, content: bytes) -> tuple[int, dict, float]:
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"Bearer {code}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read()
    return status, json.loads(text), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0, help="the uploads are spread over this time")
    parser.add_argument("--burst", action="store_true", help="every group at the same moment")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        master = generate(folder, args.groups, 10)
        held = folder / "待上传"
        (folder / "报送").rename(held)
        env = os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        issued = subprocess.run([sys.executable, "-m", "xladdin.cli", "codes", str(master), "--json"], env=env,
                                capture_output=True, text=True, check=True)
        codes = {g["holder"]: g["code"] for g in json.loads(issued.stdout)["groups"]}
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "xladdin.cli", "serve", str(master), "--port", str(port)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=open(os.environ.get("XLADDIN_SERVER_LOG", os.devnull), "w"))
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start")
                    time.sleep(0.1)
            url = f"http://127.0.0.1:{port}/api/submissions"
            ledgers = {p.name.split("_")[0]: p for p in sorted(held.glob("*.xlsx"))}
            results: dict[str, tuple[int, dict, float]] = {}
            gap = 0.0 if args.burst else args.seconds / len(ledgers)
            start = time.perf_counter() + 0.5

            def send(index: int, group: str, path: Path) -> None:
                time.sleep(max(0.0, start + index * gap - time.perf_counter()))
                results[group] = _post(url, codes[group], path.name, path.read_bytes())

            threads = [threading.Thread(target=send, args=(i, g, p)) for i, (g, p) in enumerate(ledgers.items())]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - start
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                print("the server did not stop within 15 s of SIGTERM; killed")
                server.kill()
                server.wait()
        _check(folder, master, ledgers, results)
        times = sorted(r[2] for r in results.values())
        p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
        mode = "burst" if args.burst else f"spread over {args.seconds:.0f} s"
        print(f"{len(times)} uploads ({mode}) in {elapsed:.1f} s on {os.cpu_count()} cores: every file stored and "
              f"checked once, none lost")
        print(f"feedback time: p50 {statistics.median(times):.2f} s, p95 {p95:.2f} s, max {times[-1]:.2f} s "
              f"(target p95 ≤ {TARGET_P95:.0f} s: {'met' if p95 <= TARGET_P95 else 'NOT met'})")


def _check(folder: Path, master: Path, ledgers: dict[str, Path], results: dict) -> None:
    lost = [g for g in ledgers if g not in results or results[g][0] != 200]
    assert not lost, f"not stored: {[(g, results.get(g, (None,))[:2]) for g in lost][:5]}"
    inbox = {p.name: p for p in (folder / "报送").iterdir()}
    assert len(inbox) == len(ledgers), (len(inbox), len(ledgers))
    db = sqlite3.connect(folder / "历史库.sqlite")
    rows = db.execute("SELECT file_name, group_name, sha256, status FROM uploads").fetchall()
    db.close()
    assert len(rows) == len(ledgers) and len({r[1] for r in rows}) == len(ledgers), "one upload row per group"
    for file_name, group, sha256, _ in rows:
        content = inbox[file_name].read_bytes()
        assert content == ledgers[group].read_bytes() and hashlib.sha256(content).hexdigest() == sha256
        assert results[group][1]["file"] == file_name
    done = subprocess.run([sys.executable, "-m", "xladdin.cli", "validate", str(master), "--json"],
                          capture_output=True, text=True, check=True)
    validated = {f["file"]: f for f in json.loads(done.stdout)["files"]}
    for group, (_, answer, _) in results.items():
        assert validated[answer["file"]]["status"] == answer["status"], group
        assert validated[answer["file"]]["issues"] == answer["issues"], group


if __name__ == "__main__":
    main()
