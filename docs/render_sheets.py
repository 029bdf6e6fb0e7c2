"""Render every sheet of the demo master, and of a filled template with one mistake flagged, as PNGs.

    python docs/render_sheets.py [OUT_DIR]      (default: docs/sheets; needs soffice and pdftoppm)

Each sheet is printed by LibreOffice with the workbook's own page setup (the first page of each sheet
is kept), so the pictures show what staff get on A4.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl

from xladdin.base.schema import LABEL_DATE, LEDGER_FIELDS
from xladdin.demo import MASTER_NAME, build_demo
from xladdin.engine.templates import write_group_templates
from xladdin.workbook.ledger import FIRST_ROW, IDENTITY_CELLS
from xladdin.workbook.package import MasterBook

AS_OF = dt.date(2026, 11, 24)
DPI = "55"


def soffice(args: list[str], profile: Path) -> None:
    binary = shutil.which("soffice") or shutil.which("libreoffice")
    subprocess.run([binary, f"-env:UserInstallation=file://{profile}", "--headless", *args],
                   check=True, capture_output=True, timeout=300)


def render(path: Path, prefix: str, out: Path, work: Path, profile: Path) -> list[Path]:
    """The first printed page of each sheet: the whole workbook to PDF, pages told apart by the sheet name
    the page header carries (&A)."""
    soffice(["--convert-to", "pdf", "--outdir", str(work), str(path)], profile)
    pdf = work / (path.stem + ".pdf")
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                             text=True, check=True).stdout).group(1))
    names = [ws.title for ws in openpyxl.load_workbook(path, read_only=True).worksheets]
    pngs, seen = [], set()
    for page in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout.strip()
        first = text.splitlines()[0].split()[0] if text else ""
        if first not in names or first in seen:
            continue
        seen.add(first)
        target = out / f"{prefix}-{first}"
        subprocess.run(["pdftoppm", "-png", "-r", DPI, "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
                        str(target)], check=True)
        pngs.append(target.with_suffix(".png"))
    return pngs


def filled_template(base: Path) -> Path:
    """The first group's template with the date filled and one mistake: 拆除 above 协议 on one row."""
    master = base / MASTER_NAME
    path = write_group_templates(MasterBook.open(master), base, base / "模板")[0]
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    r, c = IDENTITY_CELLS[LABEL_DATE]
    ws.cell(r, c + 1).value = AS_OF + dt.timedelta(days=1)
    agreed, demolished = ([f.key for f in LEDGER_FIELDS].index(k) + 1 for k in ("houses_agreed", "houses_demolished"))
    row = FIRST_ROW + 1  # the second project: one more house demolished than agreements signed
    ws.cell(row, demolished).value = int(ws.cell(row, agreed).value or 0) + 1
    filled = base / "填报示例_一处错误.xlsx"
    wb.save(filled)
    return filled


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "sheets"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        base, work, profile = Path(tmp) / "demo", Path(tmp) / "work", Path(tmp) / "profile"
        build_demo(base, AS_OF)
        from xladdin.engine.pipeline import execute
        execute(base / MASTER_NAME, as_of=AS_OF)
        pngs = render(base / MASTER_NAME, "母表", out, work, profile)
        pngs += render(filled_template(base), "填报模板", out, work, profile)
    for png in pngs:
        print(png)


if __name__ == "__main__":
    main()
