"""Renumbered projects (项目清单 › 原编号): before a run reads the inbox, the history stored under a
project's old code becomes its new code's, inside the run's transaction and recorded with the run, so
that its cumulative figures go on from where they were (not published as one day's gain) and a rollback
of the run moves them back."""

from __future__ import annotations

import datetime as dt

from xladdin.base.errors import SettingsError
from xladdin.store.history import Store


def renumber_projects(store: Store, pairs: list[tuple[str, str]], now: dt.datetime) -> list[tuple[str, str, int]]:
    """Move the history of every 原编号 the registry names to its row's 项目编号 (`pairs`: (原编号, 项目编号),
    validate.former_pairs); (old, new, submissions moved) of those that had any. A 原编号 unknown to the store (or moved by an earlier run) is nothing to
    do. SettingsError (exit 2, nothing written) when both codes reported on one date: which is right is for
    HQ to decide."""
    moved = []
    for old, new in pairs:
        clash = store.renumber_clash(old, new)
        if clash is not None:
            raise SettingsError(
                f"项目清单中项目“{new}”的原编号填了“{old}”，但历史库中“{old}”和“{new}”在 {clash} 都有已接收的报送，"
                f"不能合并为一个项目。请核对原编号：如确是同一项目，先在“报送记录”中撤回那天多余的一份报送"
                f"（控制台“撤回报送”按钮）再运行；如不是，请清空该原编号。")
        count = store.renumber(old, new, now)
        if count:
            moved.append((old, new, count))
    if moved:
        store.refresh_derived()  # the files read next are checked against the moved history
    return moved
