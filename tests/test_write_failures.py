"""A file-size limit (EFBIG) or a full disk (ENOSPC) while `templates` or `history --out` writes (issue 27):
exit 3, one Chinese sentence saying what to do, no traceback, nothing half-written beside the target."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap

import openpyxl
import pytest
from click.testing import CliRunner

from xladdin.cli import main

from .conftest import AS_OF

SIZE_LIMITED = textwrap.dedent("""
    import resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG, as on a FAT32 stick or a quota
    resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
    sys.argv = ["xladdin"] + sys.argv[1:]
    from xladdin.cli import main
    main()
""")


def _ran(demo_copy):
    result = CliRunner().invoke(main, ["rank", str(demo_copy), "--as-of", AS_OF.isoformat()], catch_exceptions=False)
    assert result.exit_code == 0
    return demo_copy


def _left(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("command, target", [("templates", "模板"), ("history", "历史.xlsx"), ("history", "历史.csv")])
def test_a_real_file_size_limit_stops_with_one_sentence_and_leaves_nothing(demo_copy, tmp_path, command, target):
    out = tmp_path / "出" / target
    out.parent.mkdir()
    args = [str(demo_copy), "--out", str(out)]
    if command == "history":
        args.append("--all")  # enough rows for a CSV over the limit too
    done = subprocess.run([sys.executable, "-c", SIZE_LIMITED, command, *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "400"})
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    message = " ".join(done.stderr.split())
    assert "单个文件大小" in message and "未留下写了一半的文件" in message and "NTFS" in message
    assert message.count("。") == 1
    if command == "templates":  # the templates written before the limit are whole; none is broken
        for name in _left(out):
            assert not name.startswith(".~")
            openpyxl.load_workbook(out / name)
    else:
        assert _left(out.parent) == []


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "腾出磁盘空间"), (errno.EFBIG, "单个文件大小")])
@pytest.mark.parametrize("command, target", [("templates", "模板"), ("history", "历史.xlsx")])
def test_a_full_disk_mid_save_stops_with_exit_3_and_no_half_file(demo_copy, tmp_path, monkeypatch, code, words,
                                                                 command, target):
    real_save = openpyxl.Workbook.save

    def half_then_full(wb, path):  # a part of the file reaches the disk, then the disk is full
        real_save(wb, path)
        with open(path, "r+b") as handle:
            handle.truncate(100)
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(openpyxl.Workbook, "save", half_then_full)
    out = tmp_path / "出" / target
    out.parent.mkdir()
    result = CliRunner().invoke(main, [command, str(demo_copy), "--out", str(out)])
    assert result.exit_code == 3, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert words in " ".join(result.output.split())
    assert _left(out.parent if command == "history" else out) == []
