"""A command loads what it uses: `xladdin --help` starts without pandas, openpyxl, python-docx or rich."""

from __future__ import annotations

import subprocess
import sys


def test_the_command_line_starts_without_the_heavy_libraries():
    probe = ("import sys, xladdin.cli; print(','.join(m for m in ('pandas', 'openpyxl', 'docx', 'rich', 'numpy')"
             " if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout.strip()
    assert loaded == ""
    shown = subprocess.run([sys.executable, "-m", "xladdin.cli", "--help"], check=True, capture_output=True, text=True)
    assert "run" in shown.stdout
