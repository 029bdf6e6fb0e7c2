"""The workbooks shipped in the repository's workbooks/ folder, built from the package: a master with an
empty registry but one example row, and a blank fill-in ledger. A user can download and open them
before installing anything; `scripts/build_workbooks.py` rebuilds them and a test holds them equal."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import REGISTRY_FIELDS
from xladdin.workbook.build import build_master
from xladdin.workbook.ledger import build_ledger, save_ledger

MASTER_FILE = "指挥部母表.xlsm"
LEDGER_FILE = "进度台账模板.xlsx"

EXAMPLE_PROJECT = {
    "project_id": "示例-01", "project_name": "（示例，录入本县项目后删除此行）某某产业园一期",
    "project_type": "工业用地", "level": "市级", "group": "某某片区工作组", "leader": "某某某",
    "township": "某某镇", "plan_mu": 120, "plan_houses": 15, "plan_crops": 8, "plan_fixtures": 20,
    "plan_fixtures_removed": 20, "plan_graves": 6, "deadline": dt.date(2027, 6, 30),
}
# The dates in the files (properties, zip entries): fixed, so a rebuild gives the same bytes wherever it runs.
BUILT = dt.datetime(2026, 11, 25)


def example_registry_rows() -> list[list[object]]:
    return [[EXAMPLE_PROJECT.get(f.key) for f in REGISTRY_FIELDS]]


def _fix_dates(path: Path) -> None:
    """The dates a package carries — docProps/core.xml's and each zip entry's — set to BUILT."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        parts = {i.filename: archive.read(i) for i in infos}
    stamp = BUILT.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    parts["docProps/core.xml"] = re.sub(rb"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*", rb"\g<1>" + stamp,
                                        parts["docProps/core.xml"])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in infos:
            info.date_time = BUILT.timetuple()[:6]
            archive.writestr(info, parts[info.filename])


def build_shipped(folder: Path) -> list[Path]:
    """Write the shipped master and blank ledger into folder; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    master = build_master(folder / MASTER_FILE, example_registry_rows(), today=BUILT.date())
    _fix_dates(master)
    blank = pd.DataFrame(columns=[f.key for f in REGISTRY_FIELDS])
    ledger = build_ledger("", blank, self_check=True)
    ledger.properties.created = ledger.properties.modified = BUILT
    save_ledger(ledger, folder / LEDGER_FILE, BUILT.date())
    _fix_dates(folder / LEDGER_FILE)
    return [master, folder / LEDGER_FILE]
