"""The layering (doors → engine → pipeline → … → workbook → domain → base) checked by import-linter, which
reads the imports itself: the contract in pyproject.toml is kept, names every module, and breaks when a lower
layer imports a higher one."""

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


def _contract() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]["contracts"][0]


def _lint(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--config", str(project / "pyproject.toml"), "--no-cache"], cwd=project,
                          env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, check=False)


def _copy_project(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "xladdin", tmp_path / "xladdin", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_every_module_of_the_package_has_a_layer():
    named = {name.strip() for layer in _contract()["layers"] for name in layer.split(":")}
    modules = {f"xladdin.{m.name}" for m in pkgutil.iter_modules(xladdin.__path__)}
    assert modules - named == set()
    assert named - modules == set()  # no layer names a module that is gone


def test_no_module_imports_a_layer_above_its_own(tmp_path):
    done = _lint(_copy_project(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def test_an_import_running_back_up_breaks_the_contract(tmp_path):
    project = _copy_project(tmp_path)
    for lower, upper in (("validate", "pipeline"), ("schema", "engine"), ("workbook/reader", "intake")):
        module = project / "xladdin" / f"{lower}.py"
        original = module.read_text("utf-8")
        dots = ".." if "/" in lower else "."
        module.write_text(original + f"\nfrom {dots} import {upper}  # noqa\n", "utf-8")
        done = _lint(project)
        module.write_text(original, "utf-8")
        assert done.returncode != 0 and "BROKEN" in done.stdout, (lower, upper, done.stdout)
        assert f"xladdin.{lower.replace('/', '.')} -> xladdin.{upper}" in done.stdout
