"""The stored history read back: the 历史 sheet's view of stored rows, and the `history` command's frame."""

from __future__ import annotations

from pathlib import Path

from xladdin.base.lazy import pandas as pd
from xladdin.base.schema import FIGURE_KEYS, LEDGER_BY_KEY
from xladdin.store.history import Store
from xladdin.workbook.layout import HISTORY
from xladdin.workbook.package import MasterBook


def history_view(rows: pd.DataFrame) -> pd.DataFrame:
    """Stored rows with the columns and labels of the 历史 sheet."""
    view = pd.DataFrame({
        "填报日期": rows["report_date"], "工作组": rows["group_name"], "项目编号": rows["project_id"],
        "地块名称": rows["plot"], **{LEDGER_BY_KEY[k].label: rows[k] for k in FIGURE_KEYS},
        "是否净地": rows["net_land"], "净地交付日期": rows["net_land_date"], "存在问题": rows["problems"],
        "下步措施": rows["next_steps"], "来源文件": rows["file_name"],
        "数据状态": ["已替代" if s else "有效" for s in rows["superseded"]],
    })
    assert list(view.columns) == HISTORY.labels
    return view


def history_frame(master: Path, *, group: str | None = None, project: str | None = None,
                  include_superseded: bool = False) -> pd.DataFrame:
    """Every stored row (oldest first) with the 历史 sheet's columns, filtered; read-only."""
    book = MasterBook.open(master)
    store = Store(master.parent / book.settings().store)
    try:
        rows = store.all_rows()
    finally:
        store.close()
    if group:
        rows = rows[rows["group_name"] == group]
    if project:
        rows = rows[rows["project_id"] == project]
    if not include_superseded:
        rows = rows[rows["superseded"] == 0]
    return history_view(rows).reset_index(drop=True)
