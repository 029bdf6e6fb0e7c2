"""Rebuild workbooks/ (the shipped master and blank ledger) from the package:

    python scripts/build_workbooks.py
"""

from pathlib import Path

from xladdin.workbook.shipped import build_shipped

if __name__ == "__main__":
    for path in build_shipped(Path(__file__).resolve().parent.parent / "workbooks"):
        print(path)
