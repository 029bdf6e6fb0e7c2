"""One headless LibreOffice for a test worker's conversions, driven over UNO.

Run by tests/conftest.py with the system Python that has `uno` (/usr/bin/python3), not the venv:
    python3 lo_server.py PROFILE_DIR
It starts LibreOffice once, then reads one JSON request a line on stdin, {"files": [...], "format": "xlsx",
"outdir": ...}, converts each file as `soffice --convert-to FORMAT --outdir OUTDIR FILE` would (same load
arguments, same export filter, OUTDIR/STEM.FORMAT) and answers one JSON line: {"ok": true} or {"error": ...}.
End of input closes LibreOffice. Starting LibreOffice costs more than most conversions, hence one per worker.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import traceback
import uuid
from pathlib import Path

import uno
from com.sun.star.beans import PropertyValue

# The filters `soffice --convert-to` chooses (it prints them: "using filter : …"), by document kind and format.
FILTERS = {
    ("calc", "xlsx"): "Calc Office Open XML",
    ("calc", "xls"): "MS Excel 97",
    ("calc", "pdf"): "calc_pdf_Export",
    ("writer", "pdf"): "writer_pdf_Export",
    ("writer", "docx"): "MS Word 2007 XML",
}
# com.sun.star.document.MacroExecMode.USE_CONFIG and UpdateDocMode.ACCORDING_TO_CONFIG: what the command line's
# conversions load with (desktop/source/app/dispatchwatcher.cxx), along with ReadOnly, Hidden and Silent.
USE_CONFIG, ACCORDING_TO_CONFIG = 3, 2


def _prop(name, value):
    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def _connect(pipe: str, process: subprocess.Popen, timeout: float = 60.0):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _kind(doc) -> str:
    if doc.supportsService("com.sun.star.sheet.SpreadsheetDocument"):
        return "calc"
    if doc.supportsService("com.sun.star.text.TextDocument"):
        return "writer"
    raise ValueError(f"not a spreadsheet or text document: {doc.getURL()}")


def _convert(desktop, path: Path, fmt: str, outdir: Path) -> None:
    load = (_prop("ReadOnly", True), _prop("Hidden", True), _prop("Silent", True),
            _prop("MacroExecutionMode", USE_CONFIG), _prop("UpdateDocMode", ACCORDING_TO_CONFIG))
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(str(path)), "_blank", 0, load)
    if doc is None:
        raise RuntimeError(f"LibreOffice could not open {path}")
    try:
        target = outdir / f"{path.stem}.{fmt}"
        doc.storeToURL(uno.systemPathToFileUrl(str(target)),
                       (_prop("FilterName", FILTERS[(_kind(doc), fmt)]), _prop("Overwrite", True)))
    finally:
        doc.close(True)


def main() -> int:
    profile = Path(sys.argv[1])
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    pipe = f"xladdin_tests_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    process = subprocess.Popen([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible",
                                "--norestore", "--nologo", "--nodefault", f"--accept=pipe,name={pipe};urp;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        context = _connect(pipe, process)
        desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            request = json.loads(line)
            outdir = Path(request["outdir"])
            try:
                outdir.mkdir(parents=True, exist_ok=True)
                for name in request["files"]:
                    _convert(desktop, Path(name), request["format"], outdir)
                answer = {"ok": True}
            except Exception as exc:  # reported to the test, which fails with it
                answer = {"error": f"{type(exc).__name__}: {getattr(exc, 'Message', exc)}",
                          "trace": traceback.format_exc()[-2000:]}
            print(json.dumps(answer, ensure_ascii=False), flush=True)
        try:
            desktop.terminate()
        except Exception:  # the bridge goes down with the office; that is the expected end
            pass
        return 0
    finally:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    sys.exit(main())
