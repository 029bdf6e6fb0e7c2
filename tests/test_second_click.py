"""A second click with nothing new leaves every region whose content did not change as it was (the sheet
part byte for byte, copied compressed), and still rewrites what did change: 控制台's time, a region staff
edited, every title of a new date."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import python_calamine

from tests.conftest import AS_OF, RUN_AT
from xladdin.base.schema import SHEET_CONSOLE, SHEET_RANKING, SHEET_SUMMARY
from xladdin.engine.operations import Engine
from xladdin.workbook.package import MasterBook


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist()}


def values(path: Path) -> dict[str, list]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def part_of(path: Path, sheet: str) -> str:
    return MasterBook.open(path).sheet_parts[sheet]


def test_a_second_click_rewrites_only_what_changed(demo_copy):
    Engine.on_file(demo_copy, now=RUN_AT).rank(as_of=AS_OF)
    before, shown = parts(demo_copy), values(demo_copy)
    Engine.on_file(demo_copy, now=RUN_AT + dt.timedelta(minutes=5)).rank(as_of=AS_OF)
    after = parts(demo_copy)
    for sheet in (SHEET_SUMMARY, SHEET_RANKING):
        assert after[part_of(demo_copy, sheet)] == before[part_of(demo_copy, sheet)], sheet
    assert after[part_of(demo_copy, SHEET_CONSOLE)] != before[part_of(demo_copy, SHEET_CONSOLE)]  # the run's time
    now_shown = values(demo_copy)
    assert {k: v for k, v in now_shown.items() if k != SHEET_CONSOLE} == \
        {k: v for k, v in shown.items() if k != SHEET_CONSOLE}


def test_a_region_staff_changed_is_written_again(demo_copy, tmp_path):
    Engine.on_file(demo_copy, now=RUN_AT).rank(as_of=AS_OF)
    shown = values(demo_copy)[SHEET_SUMMARY]
    summary = part_of(demo_copy, SHEET_SUMMARY)
    edited = parts(demo_copy)
    xml = edited[summary].decode("utf-8")
    # Staff overwrite the first number of the summary's data with 12345 (the file saved as Excel would).
    match = re.search(r'(<c r="[A-Z]+5"[^>]*>(?:<f>[^<]*</f>)?<v>)([-0-9.E]+)(</v>)', xml)
    assert match is not None
    edited[summary] = (xml[:match.start(2)] + "12345" + xml[match.end(2):]).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in edited.items():
            archive.writestr(name, data)
    demo_copy.write_bytes(buffer.getvalue())
    assert values(demo_copy)[SHEET_SUMMARY] != shown
    Engine.on_file(demo_copy, now=RUN_AT + dt.timedelta(minutes=5)).rank(as_of=AS_OF)
    assert values(demo_copy)[SHEET_SUMMARY] == shown


def test_a_new_date_rewrites_the_regions_of_that_date(demo_copy):
    Engine.on_file(demo_copy, now=RUN_AT).rank(as_of=AS_OF)
    before = parts(demo_copy)
    Engine.on_file(demo_copy, now=RUN_AT + dt.timedelta(days=1)).rank(as_of=AS_OF + dt.timedelta(days=1))
    after = parts(demo_copy)
    assert after[part_of(demo_copy, SHEET_SUMMARY)] != before[part_of(demo_copy, SHEET_SUMMARY)]
    title = values(demo_copy)[SHEET_SUMMARY]
    assert any(f"截至 {(AS_OF + dt.timedelta(days=1)).isoformat()}" in str(cell) for row in title for cell in row)
