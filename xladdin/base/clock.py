"""The one clock: a run reads the time once, in the HQ's time zone (设置 › 时区, China Standard Time by
default), and passes that `now` to everything it stamps. Nothing else in the package reads the wall clock.

A machine whose own zone is UTC (a server, a CI box) still stamps a file received at 20:30 Beijing time as
20:30 and on time. `XLADDIN_NOW` (an ISO date-time in the HQ's zone) fixes the clock of a process, to
replay a run or test one through the command.
"""

from __future__ import annotations

import datetime as dt
import os
import re

DEFAULT_ZONE = "UTC+8"
NOW_VARIABLE = "XLADDIN_NOW"
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.I)
_NAMED = {"北京时间": "UTC+8", "中国标准时间": "UTC+8", "CST": "UTC+8", "UTC": "UTC+0", "GMT": "UTC+0"}


def parse_zone(text: object) -> dt.tzinfo | None:
    """A time zone from what staff type: UTC+8, UTC+08:00, +8, 北京时间, or an IANA name (Asia/Shanghai)
    where the system knows it; None when it is none of these."""
    value = _NAMED.get(str(text).strip(), str(text).strip())
    match = _OFFSET.match(value.replace("＋", "+").replace("－", "-"))
    if match:
        sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
        if hours > 14 or minutes >= 60:
            return None
        offset = dt.timedelta(hours=hours, minutes=minutes) * (1 if sign == "+" else -1)
        return dt.timezone(offset)
    try:
        from zoneinfo import ZoneInfo  # an IANA name needs the system's or the tzdata package's database

        return ZoneInfo(value)
    except Exception:  # noqa: BLE001 - ZoneInfoNotFoundError, ValueError, a missing database: not a zone
        return None


def zone_of(text: object = DEFAULT_ZONE) -> dt.tzinfo:
    """parse_zone for a value already checked (settings), China Standard Time when it is not a zone."""
    return parse_zone(text) or dt.timezone(dt.timedelta(hours=8))


def now(zone: dt.tzinfo | str = DEFAULT_ZONE) -> dt.datetime:
    """The wall-clock time in the zone, naive (as Excel and the store keep times), to the second.
    `XLADDIN_NOW` set: that time instead."""
    fixed = os.environ.get(NOW_VARIABLE, "").strip()
    if fixed:
        return dt.datetime.fromisoformat(fixed).replace(tzinfo=None, microsecond=0)
    zone = zone_of(zone) if isinstance(zone, str) else zone
    return dt.datetime.now(zone).replace(tzinfo=None, microsecond=0)


def local_time(seconds: float, zone: dt.tzinfo | str = DEFAULT_ZONE) -> dt.datetime:
    """A file-system timestamp (seconds since the epoch) as the HQ's wall-clock time, naive."""
    zone = zone_of(zone) if isinstance(zone, str) else zone
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).astimezone(zone).replace(tzinfo=None)
