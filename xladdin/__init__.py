"""xladdin: validate, consolidate and rank land-acquisition progress ledgers in an Excel master workbook.

The tree is the architecture; each package may import only those below it (pyproject's import-linter
contract holds this):

    doors       cli, excel (xlwings macros and worksheet functions), console, excel_setup, bundle,
                demo, citydemo, progress — thin adapters over the engine's named operations
    engine/     the named operations and the one pipeline of a run
    notices/    督查日报, 通报 and 专报: text, Word, 期数 and archive
    store/      the SQLite history beside the master
    workbook/   every workbook file: submissions read, the master built and patched, the VBA project
    domain/     the campaign's rules, pure
    base/       vocabulary and plumbing with no rule: errors, schema, issues, values, text, fs

`xladdin.excel` and `xladdin.cli` keep their names: masters in use name the first in xlwings.conf, the
launchers the second.
"""

__version__ = "0.1.0"
