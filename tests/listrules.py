"""The 红黑榜 list rules written from the issue's text, apart from the add-in's code: the independent
definition the unit, property and LibreOffice tests compare the lists with.

- RANK.EQ rank: 1 + how many units are above (ties share the better rank).
- 前后K名 (the city's rule): 红榜 = rank <= K, 黑榜 = rank > n - K; the lowest value where another unit is
  above it (倒数第一, alone or tied) is 黑榜.
- 不超过三分之一: each list has s = min(K, n // 3) places, at least 1 when n >= 2; 黑榜 when the units at
  or below the value number at most s, 红榜 when the units at or above it number at most s.
- Both: no lists when n < 2; 黑榜 first, never both; 0 where another unit is above 0 is 黑榜; 0 never 红榜.
"""

from __future__ import annotations

BY_RANK, THIRD = "前后K名", "不超过三分之一"


def places(n: int, k: int, rule: str) -> int:
    if n < 2:
        return 0
    return k if rule == BY_RANK else max(1, min(k, n // 3))


def expected_flags(values: list, red_k: int = 3, black_k: int = 3, rule: str = THIRD) -> list[str]:
    """红榜/黑榜/"" per value (None: not ranked)."""
    ranked = [v for v in values if v is not None]
    n = len(ranked)
    flags = []
    for v in values:
        if v is None or n < 2:
            flags.append("")
            continue
        rank = 1 + sum(x > v for x in ranked)
        at_or_below = sum(x <= v for x in ranked)
        at_or_above = sum(x >= v for x in ranked)
        if rule == BY_RANK:
            black = rank > n - places(n, black_k, rule) or (v == min(ranked) < max(ranked))
            red = rank <= places(n, red_k, rule)
        else:
            black = at_or_below <= places(n, black_k, rule)
            red = at_or_above <= places(n, red_k, rule)
        black = black or (v == 0 and max(ranked) > 0)
        red = red and not black and v > 0
        flags.append("黑榜" if black else "红榜" if red else "")
    return flags
