"""Withdrawing one accepted submission (an overstatement HQ accepted): its rows leave the history, the
history is recomputed from the others, and the store records who did it and why. A rollback of the run
that withdrew it puts it back."""

from __future__ import annotations

import datetime as dt
import getpass

from xladdin.base.errors import SettingsError
from xladdin.store.history import Store


def withdraw_one(store: Store, request: tuple[str, str, str], now: dt.datetime) -> tuple[str, str, str]:
    """Withdraw the accepted submission `request[0]` names (its file name as received, or its hash or the
    first 8+ characters of it), by `request[1]` for `request[2]`; (file name, group, report date)."""
    name, who, why = (str(part).strip() for part in request)
    if not why:
        raise SettingsError("撤回报送须写明原因（命令行用 --why），例如“多报 18 亩，应为 12.5 亩”。")
    if not who:
        raise SettingsError("撤回报送须写明经办人（--who）。")
    found = store.find_accepted(name)
    if not found:
        raise SettingsError(f"历史库中没有已接收的报送“{name}”。请按“报送记录”表中的文件名填写"
                            "（已退回、已替代或已撤回的报送不能撤回）。")
    if len({sha for sha, *_ in found}) > 1:
        listed = "；".join(f"{sha[:12]}（{group} {date}）" for sha, _, group, date in found[:5])
        raise SettingsError(f"有 {len(found)} 个已接收的报送都叫“{name}”：{listed}。请改用编号（前 12 位）指明撤回哪一个。")
    sha, file_name, group, date = found[0]
    store.withdraw(sha, file_name, who, why, now)
    return file_name, group, date


def signed_in_user() -> str:
    """Who withdraws when the door was not told (the command's --who, Excel's user name): the signed-in user."""
    try:
        return getpass.getuser()
    except Exception:  # no user name on this machine: still recorded, as unknown
        return "未知"
