"""The layering (doors → engine → notices → store → workbook → domain → base) checked by import-linter, which
reads the imports itself: the contracts in pyproject.toml are kept, name every package and module of the top
level (the tree is the architecture), and break when a lower layer imports a higher one."""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import xladdin

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("engine", "notices", "store", "workbook", "domain", "base")


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]["contracts"]


def _names(contract: dict) -> set[str]:
    """The modules a contract's layers name (":" joins siblings that may import each other, "|" ones that may not)."""
    return {name.strip() for layer in contract["layers"] for name in layer.replace("|", ":").split(":")}


def _lint(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--config", str(project / "pyproject.toml"), "--no-cache"], cwd=project,
                          env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, check=False)


def _copy_project(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "xladdin", tmp_path / "xladdin", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_top_level_is_the_doors_and_the_layer_packages():
    top = _contracts()[0]
    assert top["containers"] == ["xladdin"]
    modules = {m.name for m in pkgutil.iter_modules(xladdin.__path__)}
    assert modules == _names(top)  # every module or package of the top level has a layer, no layer names a gone one
    packages = {m.name for m in pkgutil.iter_modules(xladdin.__path__) if m.ispkg}
    doors = {name.strip() for name in top["layers"][0].split(":")}
    assert packages - doors == set(PACKAGES)  # a door may be a package (web/: pages, templates)
    assert [layer.strip() for layer in top["layers"][1:]] == list(PACKAGES)


def test_each_package_says_what_lives_there_and_what_it_may_import():
    for name in PACKAGES:
        package = __import__(f"xladdin.{name}", fromlist=["_"])
        doc = package.__doc__ or ""
        assert len(doc) > 80, name
        assert ("May import" in doc or "Imports nothing" in doc), name
        above = PACKAGES[:PACKAGES.index(name)]
        allowed = doc[doc.find("May import"):] if "May import" in doc else ""
        assert not any(f"xladdin.{upper}" in allowed for upper in above), name  # never names a layer above


def test_the_inner_contracts_name_every_module_of_their_package():
    for contract in _contracts()[1:]:
        (container,) = contract["containers"]
        package = __import__(container, fromlist=["_"])
        assert {m.name for m in pkgutil.iter_modules(package.__path__)} == _names(contract), container


def test_no_module_imports_a_layer_above_its_own(tmp_path):
    done = _lint(_copy_project(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(_contracts())} kept, 0 broken" in done.stdout


def test_an_import_running_back_up_breaks_the_contract(tmp_path):
    project = _copy_project(tmp_path)
    for lower, upper in (("domain/validate", "engine.pipeline"), ("base/schema", "engine"),
                         ("workbook/reader", "engine.intake"), ("store/history", "notices.archive"),
                         ("engine/reading", "engine.pipeline"), ("notices/compose", "notices.issue"),
                         ("domain/rules", "domain.validate"), ("domain/validate", "domain.selfcheck"),
                         ("domain/selfcheck", "domain.validate")):
        module = project / "xladdin" / f"{lower}.py"
        original = module.read_text("utf-8")
        module.write_text(original + f"\nimport xladdin.{upper}  # noqa\n", "utf-8")
        done = _lint(project)
        module.write_text(original, "utf-8")
        assert done.returncode != 0 and "BROKEN" in done.stdout, (lower, upper, done.stdout)
        assert f"xladdin.{lower.replace('/', '.')} -> xladdin.{upper}" in done.stdout, done.stdout


def test_the_store_has_one_way_in():
    """Outside xladdin/store, the history store is reached through class Store's methods only, never through
    its SQLite connection (Store.db): every statement stays a named one of store/sql.py, in the store's
    transaction."""
    import ast

    reached = []
    for path in (ROOT / "xladdin").rglob("*.py"):
        if path.parent.name == "store" and path.parent.parent.name == "xladdin":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "db":
                reached.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert reached == []
