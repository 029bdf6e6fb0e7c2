"""Broken and hostile submissions: the run completes, each is refused (or accepted with a warning)
with a Chinese reason, the rest of the inbox goes through, and nothing reaches the master as a formula."""

from __future__ import annotations

import re
import resource
import time
import zipfile

from xladdin.demo import MASTER_NAME, registry_frame
from xladdin.engine.model import DUPLICATE, KNOWN, NEW_ACCEPTED, NEW_REJECTED, SKIPPED
from xladdin.engine.pipeline import execute
from xladdin.workbook.build import build_master

from .conftest import AS_OF
from .corpus import build_corpus, corpus_registry_rows

DATE = AS_OF - __import__("datetime").timedelta(days=1)


def test_every_corpus_file_gets_the_right_outcome_and_nothing_crashes(tmp_path, capsys):
    master = build_master(tmp_path / MASTER_NAME, corpus_registry_rows(AS_OF))
    registry = registry_frame()
    cases = build_corpus(tmp_path / "报送", registry, DATE)
    assert len(cases) >= 40
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = execute(master, as_of=AS_OF)
    seconds = time.perf_counter() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    outcomes = {f.file: f for f in result.files}
    table = []
    for case in cases:
        outcome = outcomes[case.name]
        codes = {i.code for i in outcome.issues}
        table.append(f"{case.name:<28} {outcome.status:<4} {', '.join(sorted(codes))}")
        if case.expect == "rejected":
            assert outcome.status == NEW_REJECTED, (case, codes)
            assert codes & case.codes, (case.name, codes)
            assert all(any("\u4e00" <= ch <= "\u9fff" for ch in i.message) for i in outcome.errors)
            if any(c in codes for c in ("project-unknown", "total-mismatch", "far-above-plan")):  # a file that opens
                assert outcome.returned, (case.name, "no marked-up copy")
        elif case.expect == "accepted":
            assert outcome.status == NEW_ACCEPTED, (case.name, [i.message for i in outcome.errors])
            assert case.codes <= codes, (case.name, codes)
        elif case.expect == "skipped":
            assert outcome.status == SKIPPED, (case.name, outcome.status)
            assert any("\u4e00" <= ch <= "\u9fff" for ch in outcome.issues[0].message)
        else:
            assert outcome.status in (DUPLICATE, KNOWN), case.name
    with capsys.disabled():
        print("\n" + "\n".join(table))
        print(f"corpus: {len(cases)} files in {seconds:.1f} s, peak memory grew {grown:.0f} MiB")
    assert grown < 1024  # the bombs are refused before they are inflated (time is reported above, not asserted)
    # Nothing from a submission reaches the master as a formula: formulas live only where the add-in
    # writes its own (红黑榜, 图表), and the HYPERLINK text is text.
    with zipfile.ZipFile(master) as archive:
        for name in archive.namelist():
            if re.match(r"xl/worksheets/sheet\d+\.xml$", name):
                xml = archive.read(name).decode()
                formulas = re.findall(r"<f>([^<]*)</f>", xml)
                assert not any("HYPERLINK" in f or "WEBSERVICE" in f or "|" in f for f in formulas), name
    # The ledger whose 存在问题 reads like a HYPERLINK formula reaches 历史 as text.
    from xladdin.workbook.package import MasterBook

    book = MasterBook.open(master)
    history = book.parts[book.sheet_parts["历史"]].decode()
    assert '<t xml:space="preserve">=HYPERLINK("http://example.com","看这里")</t>' in history


def test_the_good_files_of_a_hostile_inbox_are_consolidated(tmp_path):
    master = build_master(tmp_path / MASTER_NAME, corpus_registry_rows(AS_OF))
    cases = build_corpus(tmp_path / "报送", registry_frame(), DATE)
    result = execute(master, as_of=AS_OF)
    summary = result.summary.set_index("project_id")
    assert summary.at["SJ-06", "acquired_mu"] == 10.5 and summary.at["SJ-06", "last_report"] == DATE
    assert result.count(NEW_ACCEPTED) == sum(1 for c in cases if c.expect == "accepted")
    assert result.count(NEW_REJECTED) == sum(1 for c in cases if c.expect == "rejected")
    assert summary.loc[summary["group"] != "城南片区工作组", "status"].isin(["未报送"]).sum() > 0  # others untouched
