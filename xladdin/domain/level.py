"""The level of an HQ (设置 › 指挥部级别: 县 or 市) and every word that follows from it: the one place the
add-in takes level words from. A county HQ ranks its 工作组 and speaks of 全县; a city HQ ranks its
县（市、区） and speaks of 全市, names a 黑榜片区 and writes the seed's 《…“红黑榜”通报》.

Nothing else in the code writes 全县, 全市, 工作组 (as the name of a ranking unit) or 县直有关单位: it asks a
Level for them (level_of(settings.level) or Settings.words).
"""

from __future__ import annotations

from dataclasses import dataclass

COUNTY, CITY = "县", "市"
LEVELS = (COUNTY, CITY)

# The two rules for the 红黑榜 lists (设置 › 上榜规则), as staff choose them.
RULE_BY_RANK = "前后K名"  # 红榜 = 名次 ≤ K, 黑榜 = 名次 > n − K (the city's rule, seed: 第八名 of ten is 后三名)
RULE_THIRD = "不超过三分之一"  # each list at most min(K, ⌊n/3⌋), ties at the boundary listed whole or not at all
LIST_RULES = (RULE_BY_RANK, RULE_THIRD)

# 进度占比率: the seed's formula (every project) or a county's own choice (projects already 净地 left out).
PROGRESS_ALL, PROGRESS_WITHOUT_NET = "全部项目", "剔除期初已净地"


@dataclass(frozen=True)
class Level:
    """The words and defaults of one level."""

    name: str  # 县 / 市
    whole: str  # 全县 / 全市: the whole the master covers
    unit: str  # what the ranking units (责任工作组 column) are called: 工作组 / 县（市、区）
    units_all: str  # 各工作组 / 各县（市、区）: the units addressed together
    listed: str  # what a listed unit is called after 红榜/黑榜: "" / 片区 (被列为本期黑榜片区)
    above: str  # whose ranking the whole line answers to: 市 (a county HQ) / 省 (a city HQ)
    issuer: str  # 设置 › 发文单位 default
    notice_to: str  # 设置 › 主送 default
    notice_cc: str  # 设置 › 抄送 default
    notice_closing: str  # 设置 › 通报工作要求 default
    list_rule: str  # 设置 › 上榜规则 default
    progress_basis: str  # 设置 › 进度占比率口径 default
    weekly_title: str  # the weekly notice's title, {place} the 县名/市名 (blank: the level's own word, 市), {period} the period

    def title_of_weekly(self, place: str, period: str) -> str:
        return self.weekly_title.format(place=place or self.name, period=period)


_COMMON_TITLE = "重点项目和民生工程用地保障攻坚"

LEVEL_WORDS: dict[str, Level] = {
    COUNTY: Level(
        name=COUNTY, whole="全县", unit="工作组", units_all="各工作组", listed="", above="市",
        issuer=f"县{_COMMON_TITLE}指挥部", notice_to="各攻坚工作组，县直有关单位",
        notice_cc="县委、县政府主要领导，县委、县政府分管领导",
        notice_closing="各工作组要对照作战图、时间表，倒排工期、挂图作战，细化到岗、细化到人；对通报指出的问题，"
                "责任领导要亲自研究，限期整改到位。",
        list_rule=RULE_THIRD, progress_basis=PROGRESS_WITHOUT_NET,
        weekly_title=f"关于{_COMMON_TITLE}进展情况的通报（{{period}}）"),
    CITY: Level(
        name=CITY, whole="全市", unit="县（市、区）", units_all="各县（市、区）", listed="片区", above="省",
        issuer=f"市{_COMMON_TITLE}指挥部", notice_to=f"各县（市、区）{_COMMON_TITLE}指挥部，市直有关单位",
        notice_cc="市委、市政府主要领导，市委、市政府分管领导",
        notice_closing="各县（市、区）要对照作战图、时间表，倒排工期、挂图作战，细化到岗、细化到人；对通报指出的问题，"
                "要明确责任领导，限期整改到位。",
        list_rule=RULE_BY_RANK, progress_basis=PROGRESS_ALL,
        weekly_title=f"{{place}}{_COMMON_TITLE}工作进展情况“红黑榜”通报（{{period}}）"),
}


def level_of(name: str | None) -> Level:
    """The Level of 设置 › 指挥部级别 (blank: 县)."""
    return LEVEL_WORDS.get(str(name or "").strip() or COUNTY, LEVEL_WORDS[COUNTY])


def unit_name(level: Level, rank_unit: str, default_unit: str) -> str:
    """What a ranking unit is called: the level's unit when 设置 › 排名单位 is its default (工作组, the
    责任工作组 column), else the chosen column (乡镇, 项目类型)."""
    return level.unit if rank_unit == default_unit else rank_unit
