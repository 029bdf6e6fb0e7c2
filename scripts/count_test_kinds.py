"""Count the collected test items by kind (a pytest plugin, run at collection only):

    PYTHONPATH=scripts .venv/bin/python -m pytest --collect-only -q -p count_test_kinds

libreoffice: marked `libreoffice`; property: hypothesis `@given`; end-to-end: runs the job on a master
(a demo or campaign fixture, `execute`, the `xladdin` command, a macro, or a subprocess); unit: the rest.
The kinds are exclusive, in that order.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter

END_TO_END_FIXTURES = {"demo", "fresh_demo", "campaign", "fresh", "reference_run", "master"}
END_TO_END_CALLS = re.compile(r"\b(execute|invoke|run_job|roll_back|subprocess\.|_cli_run|_run|xladdin_\w+|"
                              r"soak|make_campaign|generate)\(")


def kind_of(item) -> str:
    if item.get_closest_marker("libreoffice"):
        return "libreoffice"
    function = getattr(item, "function", None)
    if function is not None and hasattr(function, "hypothesis"):
        return "property"
    if END_TO_END_FIXTURES & set(getattr(item, "fixturenames", ())):
        return "end-to-end"
    source = inspect.getsource(function) if function is not None else ""
    if END_TO_END_CALLS.search(source):
        return "end-to-end"
    return "unit"


def pytest_collection_finish(session):
    counts = Counter(kind_of(item) for item in session.items)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    line = ", ".join(f"{kind} {counts[kind]}" for kind in ("unit", "property", "end-to-end", "libreoffice"))
    reporter.write_line(f"test items by kind: {line} (total {sum(counts.values())})")
