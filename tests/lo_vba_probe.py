"""Open workbooks in a headless LibreOffice over UNO and report what it made of their VBA project.

Run by tests/test_vba_project.py with the system Python that has `uno` (/usr/bin/python3), not the venv:
    python3 lo_vba_probe.py PROFILE_DIR REQUESTS_JSON
REQUESTS_JSON is a list of {"path": ..., "call": "Module.Name" or null}. Prints one JSON list: for each
request the modules of the document's VBAProject library and, when asked, the result of running the
script (or the error LibreOffice raised).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import uno
from com.sun.star.beans import PropertyValue


def _prop(name, value):
    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def _connect(pipe: str, process: subprocess.Popen, timeout: float = 25.0):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _probe(desktop, path: str, call: str | None) -> dict:
    # MacroExecutionMode 4: ALWAYS_EXECUTE_NO_WARN, so that document macros may run headless.
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0,
                                       (_prop("Hidden", True), _prop("MacroExecutionMode", 4)))
    try:
        report: dict = {"path": path}
        libraries = doc.BasicLibraries
        report["libraries"] = list(libraries.getElementNames())
        if libraries.hasByName("VBAProject"):
            libraries.loadLibrary("VBAProject")
            library = libraries.getByName("VBAProject")
            report["modules"] = sorted(library.getElementNames())
            report["vba_mode"] = bool(libraries.VBACompatibilityMode)
        if call:
            url = f"vnd.sun.star.script:VBAProject.{call}?language=Basic&location=document"
            try:
                result = doc.getScriptProvider().getScript(url).invoke((), (), ())
                report["result"] = result[0] if isinstance(result, tuple) else result
            except Exception as exc:  # what LibreOffice says is the finding, not a failure of the probe
                report["error"] = f"{type(exc).__name__}: {getattr(exc, 'Message', exc)}"
        return report
    finally:
        doc.close(True)


def main() -> int:
    profile, requests = Path(sys.argv[1]), json.loads(sys.argv[2])
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    pipe = f"xladdin_vba_{uuid.uuid4().hex[:8]}"
    process = subprocess.Popen([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible",
                                "--norestore", "--nologo", "--nodefault", f"--accept=pipe,name={pipe};urp;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        context = _connect(pipe, process)
        desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        reports = [_probe(desktop, r["path"], r.get("call")) for r in requests]
        print(json.dumps(reports, ensure_ascii=False))
        try:
            desktop.terminate()
        except Exception:  # the bridge goes down with the office; that is the expected end
            pass
        return 0
    finally:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        os.environ.get("KEEP_PROFILE") or shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
