"""Settings as staff keep them in the 设置 sheet: key, value, explanation; parsed with Chinese errors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .schema import RANK_UNITS


class SettingsError(Exception):
    """A setting staff must fix; the message is Chinese and names the setting."""


# key, default, explanation. The order is the order of the 设置 sheet.
DEFAULTS: tuple[tuple[str, object, str], ...] = (
    ("收件箱文件夹", "报送", "各工作组报送的台账放在这里（相对母表所在文件夹，也可填完整路径）"),
    ("归档文件夹", "归档", "每个报送文件处理前先复制一份到这里"),
    ("退回文件夹", "退回", "被退回的台账标注后的副本放在这里"),
    ("备份文件夹", "备份", "每次写入母表前，旧母表备份到这里"),
    ("备份份数", 5, "保留最近几份母表备份"),
    ("历史库文件", "历史库.sqlite", "全部已接收数据的历史库（相对母表所在文件夹）"),
    ("排名单位", "工作组", "红黑榜按什么排名：工作组 / 乡镇 / 项目类型"),
    ("红榜数量", 3, "红榜最多几名（K）：每项指标取 K 与参与排名单位数÷3（取整）中较小的，不足 1 时为 1；"
                  "边界上并列的单位整组不列入；完成率为 0 的不列入红榜"),
    ("黑榜数量", 3, "黑榜最多几名（K）：规则同红榜；先定黑榜，再定红榜；唯一的倒数第一总在黑榜"),
    ("并列名次", "跳位", "并列时的名次：跳位（1,1,3，同 RANK.EQ）或 中国式（1,1,2）；只影响名次数字，不影响谁上榜"),
    ("净地完成率口径", "面积", "净地完成率按 面积（已净地项目计划面积÷总计划面积）或 个数（已净地项目数÷项目数）"),
    ("征地完成率权重", None, "综合得分中各指标的权重；全部留空则不计算综合得分"),
    ("进度占比率权重", None, "综合得分权重"),
    ("净地完成率权重", None, "综合得分权重"),
    ("工业用地征地完成率权重", None, "综合得分权重（单位没有工业用地项目时，按其余指标的权重折算）"),
    ("进度占比率口径", "剔除期初已净地", "进度占比率的项目范围：剔除期初已净地（本期开始时已净地的项目不计入分子分母）"
                              " 或 全部项目（旧口径）"),
    ("全县口径", "市级项目", "“全县”一行按哪些项目计算（与市里排名的口径一致）：市级项目 或 全部项目"),
    ("本期起始日期", None, "进度占比率的统计起点；留空则为统计日期前“本期天数”天"),
    ("本期天数", 7, "本期起始日期留空时，本期的天数"),
    ("报送截止时间", "21:00", "每天报送的截止时间（晚上例会前）；之后收到的台账照常计入，但在今日报送情况中标为逾时"),
    ("无进展天数", 3, "连续多少天各项累计数都没有增加，标为“无进展”"),
    ("临期天数", 7, "距净地交付期限不足多少天，标为“临期”"),
    ("单日增幅警告比例", 0.3, "一次报送比上次增加超过计划数的这个比例时给出警告"),
    ("历史显示天数", 30, "“历史”表显示最近多少天的数据（历史库中全部保留）"),
    ("历史显示行数上限", 20000, "“历史”表最多显示多少行（最新的在前；Excel 一张表最多约 104 万行）"),
    ("报送文件上限(MB)", 20, "超过此大小的报送文件直接退回"),
    ("解压后上限(MB)", 100, "xlsx 解压后超过此大小（可能是压缩炸弹）直接退回"),
    ("台账行数上限", 5000, "“进度台账”超过此行数直接退回"),
    ("台账列数上限", 100, "“进度台账”超过此列数直接退回"),
    ("单元格字数上限", 2000, "单元格文字超过此长度直接退回"),
    ("县名", "", "通报、督查日报的发文单位前加的县名，如 清河县；留空则只写“县”"),
    ("发文单位", "县重点项目和民生工程用地保障攻坚指挥部", "通报落款和版头的发文单位"),
    ("期数格式", "〔{年}〕第{期}期", "通报期数的写法：{年} 换成年份，{期} 换成期数（每年、每种文书各自从 1 编号）"),
    ("主送", "各攻坚工作组，县直有关单位", "通报的主送单位"),
    ("抄送", "县委、县政府主要领导，县委、县政府分管领导", "通报末尾的抄送单位；留空则不写"),
    ("通报开头语", "为贯彻落实“每日一督查、每周一通报”工作机制，现将重点项目和民生工程用地保障攻坚进展情况通报如下。",
     "通报正文的第一段"),
    ("通报工作要求", "各工作组要对照作战图、时间表，倒排工期、挂图作战，细化到岗、细化到人；"
                   "对通报指出的问题，责任领导要亲自研究，限期整改到位。", "通报正文的最后一段（工作要求）"),
    ("节点列表", "报批、征收、房屋协议、拆除、清表、高压线迁移、净地交付、挂牌出让",
     "节点计划（作战图）中每个项目的节点，用顿号分隔；征收、房屋协议、拆除、清表、净地交付由台账推算完成日期，其余请在“节点计划”中录入"),
    ("通报存档文件夹", "通报存档", "每次发出的通报、督查日报存一份 Word 文档到这里（相对母表所在文件夹）"),
)

# Defined names that formulas use to read a setting's value cell.
SETTING_NAMES = {"临期天数": "DueSoonDays", "红榜数量": "RedListSize", "黑榜数量": "BlackListSize", "征地完成率权重": "WeightAcquisition",
                 "进度占比率权重": "WeightProgress", "净地完成率权重": "WeightNetLand",
                 "工业用地征地完成率权重": "WeightIndustrial"}
TIE_RULES = ("跳位", "中国式")
NET_LAND_BASES = ("面积", "个数")
PROGRESS_BASES = ("剔除期初已净地", "全部项目")
CITY_BASES = ("市级项目", "全部项目")
WEIGHT_KEYS = {"acquisition_rate": "征地完成率权重", "progress_ratio": "进度占比率权重",
               "net_land_rate": "净地完成率权重", "industrial_rate": "工业用地征地完成率权重"}


@dataclass(frozen=True)
class Settings:
    inbox: str = "报送"
    archive: str = "归档"
    returned: str = "退回"
    backups: str = "备份"
    backup_count: int = 5
    store: str = "历史库.sqlite"
    rank_unit: str = "工作组"
    red_k: int = 3
    black_k: int = 3
    tie_rule: str = "跳位"
    net_land_basis: str = "面积"
    progress_basis: str = "剔除期初已净地"
    city_basis: str = "市级项目"
    weights: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    period_start: dt.date | None = None
    period_days: int = 7
    stall_days: int = 3
    due_soon_days: int = 7
    report_cutoff: dt.time = dt.time(21, 0)
    jump_ratio: float = 0.3
    history_days: int = 30
    history_rows: int = 20000
    max_file_mb: int = 20
    max_unzip_mb: int = 100
    max_rows: int = 5000
    max_cols: int = 100
    max_cell_chars: int = 2000
    county: str = ""
    issuer: str = "县重点项目和民生工程用地保障攻坚指挥部"
    number_pattern: str = "〔{年}〕第{期}期"
    notice_to: str = "各攻坚工作组，县直有关单位"
    notice_cc: str = "县委、县政府主要领导，县委、县政府分管领导"
    notice_opening: str = ""
    notice_closing: str = ""
    notice_archive: str = "通报存档"
    milestones: str = "报批、征收、房屋协议、拆除、清表、高压线迁移、净地交付、挂牌出让"

    @property
    def dense(self) -> bool:
        return self.tie_rule == "中国式"

    @property
    def rank_unit_key(self) -> str:
        return RANK_UNITS[self.rank_unit]

    def period_start_for(self, as_of: dt.date) -> dt.date:
        """The start of the period that ends on as_of."""
        if self.period_start is not None and self.period_start < as_of:
            return self.period_start
        return as_of - dt.timedelta(days=self.period_days)


_ATTR = {
    "收件箱文件夹": "inbox", "归档文件夹": "archive", "退回文件夹": "returned", "备份文件夹": "backups",
    "备份份数": "backup_count", "历史库文件": "store", "排名单位": "rank_unit", "红榜数量": "red_k",
    "黑榜数量": "black_k", "本期起始日期": "period_start", "本期天数": "period_days",
    "无进展天数": "stall_days", "临期天数": "due_soon_days", "报送截止时间": "report_cutoff", "单日增幅警告比例": "jump_ratio",
    "历史显示天数": "history_days", "历史显示行数上限": "history_rows", "并列名次": "tie_rule", "净地完成率口径": "net_land_basis",
    "进度占比率口径": "progress_basis", "全县口径": "city_basis",
    "报送文件上限(MB)": "max_file_mb", "解压后上限(MB)": "max_unzip_mb", "台账行数上限": "max_rows",
    "台账列数上限": "max_cols", "单元格字数上限": "max_cell_chars",
    "县名": "county", "发文单位": "issuer", "期数格式": "number_pattern", "主送": "notice_to", "抄送": "notice_cc",
    "通报开头语": "notice_opening", "通报工作要求": "notice_closing", "通报存档文件夹": "notice_archive",
    "节点列表": "milestones",
}
TEXT_ALLOWED_BLANK = ("county", "notice_cc")


def _as_int(key: str, value: object, minimum: int) -> int:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise SettingsError(f"设置“{key}”应为整数，实际为“{value}”。请在“设置”表中改正。") from None
    if number != int(number) or number < minimum:
        raise SettingsError(f"设置“{key}”应为不小于 {minimum} 的整数，实际为“{value}”。请在“设置”表中改正。")
    return int(number)


def parse_settings(values: dict[str, object]) -> Settings:
    """Settings from the 设置 sheet's key/value pairs; blanks take the defaults."""
    from .values import parse_date  # local import: values imports nothing from here

    parsed: dict[str, object] = {}
    defaults = {key: default for key, default, _ in DEFAULTS}
    for key, attr in _ATTR.items():
        value = values.get(key)
        if attr in TEXT_ALLOWED_BLANK and key in values:  # a blank here means "none", not the default
            parsed[attr] = "" if value is None else str(value).strip()
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            value = defaults[key]
            if value is None:
                parsed[attr] = None
                continue
        if attr in ("backup_count", "period_days", "stall_days", "due_soon_days", "history_days", "history_rows",
                    "max_file_mb",
                    "max_unzip_mb", "max_rows", "max_cols", "max_cell_chars"):
            parsed[attr] = _as_int(key, value, 1)
        elif attr in ("red_k", "black_k"):
            parsed[attr] = _as_int(key, value, 1)
        elif attr == "jump_ratio":
            try:
                parsed[attr] = float(value)
            except (TypeError, ValueError):
                raise SettingsError(f"设置“{key}”应为小数（如 0.3），实际为“{value}”。") from None
        elif attr == "report_cutoff":
            from .roster import parse_cutoff

            cutoff = parse_cutoff(value)
            if cutoff is None:
                raise SettingsError(f"设置“{key}”应为时间（如 21:00），实际为“{value}”。请在“设置”表中改正。")
            parsed[attr] = cutoff
        elif attr == "period_start":
            date = parse_date(value)
            if date is None:
                raise SettingsError(f"设置“{key}”应为日期（如 2026-11-17）或留空，实际为“{value}”。")
            parsed[attr] = date
        elif attr in ("tie_rule", "net_land_basis", "progress_basis", "city_basis"):
            allowed = {"tie_rule": TIE_RULES, "net_land_basis": NET_LAND_BASES, "progress_basis": PROGRESS_BASES,
                       "city_basis": CITY_BASES}[attr]
            choice = str(value).strip()
            if choice not in allowed:
                raise SettingsError(f"设置“{key}”应为 {' / '.join(allowed)} 之一，实际为“{choice}”。")
            parsed[attr] = choice
        elif attr == "rank_unit":
            unit = str(value).strip()
            if unit not in RANK_UNITS:
                raise SettingsError(f"设置“排名单位”应为 {' / '.join(RANK_UNITS)} 之一，实际为“{unit}”。")
            parsed[attr] = unit
        else:
            parsed[attr] = str(value).strip()
    weights = []
    for key in WEIGHT_KEYS.values():
        value = values.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            weights.append(0.0)
            continue
        try:
            weight = float(str(value).strip())
        except ValueError:
            weight = -1.0
        if weight < 0:
            raise SettingsError(f"设置“{key}”应为不小于 0 的数字或留空，实际为“{value}”。")
        weights.append(weight)
    parsed["weights"] = tuple(weights)
    return Settings(**parsed)
