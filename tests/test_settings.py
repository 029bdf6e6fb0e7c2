"""设置 is one table: the sheet, the parser, the defaults and the screening limits come from it."""

from __future__ import annotations

import dataclasses

import pytest

from xladdin.base.errors import SettingsError
from xladdin.domain.settings import TABLE, Settings, parse_settings
from xladdin.workbook.guard import Limits


def test_an_empty_settings_sheet_gives_the_defaults_of_the_table():
    assert parse_settings({}) == Settings()
    assert parse_settings({s.key: s.default for s in TABLE}) == Settings()


def test_every_field_is_filled_from_exactly_one_row():
    attrs = [s.attr for s in TABLE if s.attr]
    assert len(attrs) == len(set(attrs))
    assert set(attrs) | {"weights"} == {f.name for f in dataclasses.fields(Settings)}
    assert sum(1 for s in TABLE if s.kind == "weight") == len(Settings().weights)
    assert all(s.note and any("\u4e00" <= ch <= "\u9fff" for ch in s.note) for s in TABLE)


def test_the_screening_limits_are_the_settings_defaults():
    defaults, limits = Settings(), Limits()
    assert (limits.max_rows, limits.max_cols, limits.max_cell_chars) == (
        defaults.max_rows, defaults.max_cols, defaults.max_cell_chars)
    assert limits.max_file_bytes == defaults.max_file_mb * 2**20
    assert Limits.from_settings(parse_settings({"台账行数上限": 12})).max_rows == 12


@pytest.mark.parametrize("key, value, words", [
    ("台账行数上限", "0", "不小于 1 的整数"), ("并列名次", "随便", "跳位 / 中国式"), ("报送截止时间", "晚上", "时间"),
    ("本期起始日期", "下周", "日期"), ("单日增幅警告比例", "三成", "小数"), ("征地完成率权重", "-1", "不小于 0"),
])
def test_each_kind_of_setting_refuses_a_bad_value_in_words(key, value, words):
    with pytest.raises(SettingsError, match=words) as error:
        parse_settings({key: value})
    assert key in str(error.value)
