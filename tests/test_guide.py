"""docs/在Excel中使用.md stays true to what the package ships: the buttons, the Pythons of the offline
bundle, the DLL name the VBA declares, the launchers, and the three things an office PC's security does."""

from __future__ import annotations

from pathlib import Path

from xladdin.bundle import CONSTRAINTS, INSTALLER, supported_pythons
from xladdin.excel_setup import XLWINGS_VERSION
from xladdin.workbook.build import BUTTONS, INSTALLED_VENV, RUN_LAUNCHER, SERVE_LAUNCHER

ROOT = Path(__file__).parent.parent
GUIDE = (ROOT / "docs" / "在Excel中使用.md").read_text(encoding="utf-8")
NUMERALS = "零一二三四五六七八九十"


def test_the_guide_counts_and_names_every_button():
    assert f"{NUMERALS[len(BUTTONS)]}个按钮" in GUIDE
    for caption, _ in BUTTONS:
        assert caption in GUIDE


def test_the_guide_names_every_python_the_bundle_carries():
    pythons = supported_pythons(ROOT / CONSTRAINTS)
    assert "64 位" in GUIDE
    listed = "、".join(pythons[:-1]) + f" 或 {pythons[-1]}"
    assert listed in GUIDE


def test_the_guide_answers_the_errors_an_office_pc_shows():
    assert f"运行时错误 '53'：文件未找到: xlwings64-{XLWINGS_VERSION}.dll" in GUIDE
    assert "解除锁定" in GUIDE and "Windows 已保护你的电脑" in GUIDE  # Mark of the Web: the zip and 安装.cmd
    assert "禁用无数字签署的所有宏" in GUIDE and "受信任位置" in GUIDE
    assert "杀毒软件" in GUIDE
    for name in (INSTALLER, RUN_LAUNCHER, SERVE_LAUNCHER, INSTALLED_VENV):
        assert name in GUIDE.replace("\\\\", "\\")
