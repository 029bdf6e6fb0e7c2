"""One campaign run twice in one process (a first run, then a second click with nothing new), with the
节点计划 region's cost separated out when NOPLAN=1 (build_plan and reached_dates stubbed: until the
milestones rework lands, that region's quadratic dominates a city run). SRC=DIR measures the package in
DIR instead of the installed one (e.g. an earlier commit: `git archive COMMIT xladdin | tar -x -C DIR`).

    python -m benchmarks.bench --make /tmp/c/city 100 100 0
    NOPLAN=1 python benchmarks/sidebyside.py /tmp/c/city time     # or prof / prof2: cProfile of run 1 / 2
"""
import cProfile, pstats, sys, shutil, time, os, datetime as dt
if os.environ.get("SRC"):  # measure another tree: drop the editable install's finder
    sys.meta_path = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path.insert(0, os.environ["SRC"])
from pathlib import Path
src, mode = Path(sys.argv[1]), sys.argv[2]
work = src.parent / f"work-{src.name}"
shutil.rmtree(work, ignore_errors=True); shutil.copytree(src, work)
import xladdin.engine.pipeline as pl
if os.environ.get("NOPLAN"):
    pl.build_plan = lambda *a, **k: None
    pl.reached_dates = lambda *a, **k: {}
from xladdin.engine.operations import Engine
now = dt.datetime(2026, 11, 24, 21, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
def go():
    return Engine.on_file(work / "母表.xlsm", now=now).run(as_of=dt.date(2026, 11, 24), workers=1)
t = time.perf_counter()
if mode == "prof":
    cProfile.run("go()", str(src.parent / "first.prof"))
else:
    go()
print("first", time.perf_counter() - t)
t = time.perf_counter()
if mode == "prof2":
    cProfile.run("go()", str(src.parent / "second.prof"))
else:
    go()
print("second", time.perf_counter() - t)
