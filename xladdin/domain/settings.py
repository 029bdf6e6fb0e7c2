"""Settings as staff keep them in the 设置 sheet: key, value, explanation; parsed with Chinese errors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from xladdin.base.clock import DEFAULT_ZONE, parse_zone, zone_of
from xladdin.base.errors import SettingsError
from xladdin.base.schema import RANK_UNITS
from xladdin.base.values import parse_date
from xladdin.domain.milestones import DEFAULT_DAYS, DEFAULT_MILESTONES
from xladdin.domain.roster import parse_cutoff

TIE_RULES = ("跳位", "中国式")
NET_LAND_BASES = ("面积", "个数")
PROGRESS_BASES = ("剔除期初已净地", "全部项目")
CITY_BASES = ("市级项目", "全部项目")


@dataclass(frozen=True)
class Setting:
    """One row of the 设置 sheet: the key staff see, the Settings field it fills, its default, its kind
    (text, text-or-blank, int ≥ 1, ratio, date, time, zone, choice, weight), the explanation written beside it,
    and the defined name formulas read it by. The sheet, the parser, the limits and the docs all come
    from this one table."""

    key: str
    attr: str | None  # None: a 综合得分 weight, gathered into Settings.weights
    default: object
    kind: str
    note: str
    choices: tuple[str, ...] = ()
    name: str | None = None


# The order is the order of the 设置 sheet.
TABLE: tuple[Setting, ...] = (
    Setting('收件箱文件夹', 'inbox', '报送', 'text',
            '各工作组报送的台账放在这里（相对母表所在文件夹，也可填完整路径）'),
    Setting('归档文件夹', 'archive', '归档', 'text',
            '每个报送文件处理前先复制一份到这里'),
    Setting('退回文件夹', 'returned', '退回', 'text',
            '被退回的台账标注后的副本放在这里'),
    Setting('备份文件夹', 'backups', '备份', 'text',
            '每次写入母表前，旧母表备份到这里'),
    Setting('备份份数', 'backup_count', 5, 'int',
            '保留最近几份母表备份'),
    Setting('历史库文件', 'store', '历史库.sqlite', 'text',
            '全部已接收数据的历史库（相对母表所在文件夹）'),
    Setting('排名单位', 'rank_unit', '工作组', 'choice',
            '红黑榜按什么排名：工作组 / 乡镇 / 项目类型', choices=tuple(RANK_UNITS)),
    Setting('红榜数量', 'red_k', 3, 'int',
            '红榜最多几名（K）：每项指标取 K 与参与排名单位数÷3（取整）中较小的，不足 1 时为 1；边界上并列的单位整组不列入；完成率为 0 的不列入红榜', name='RedListSize'),
    Setting('黑榜数量', 'black_k', 3, 'int',
            '黑榜最多几名（K）：规则同红榜；先定黑榜，再定红榜；唯一的倒数第一总在黑榜', name='BlackListSize'),
    Setting('并列名次', 'tie_rule', '跳位', 'choice',
            '并列时的名次：跳位（1,1,3，同 RANK.EQ）或 中国式（1,1,2）；只影响名次数字，不影响谁上榜', choices=TIE_RULES),
    Setting('净地完成率口径', 'net_land_basis', '面积', 'choice',
            '净地完成率按 面积（已净地项目计划面积÷总计划面积）或 个数（已净地项目数÷项目数）', choices=NET_LAND_BASES),
    Setting('征地完成率权重', None, None, 'weight',
            '综合得分中各指标的权重；全部留空则不计算综合得分', name='WeightAcquisition'),
    Setting('进度占比率权重', None, None, 'weight',
            '综合得分权重', name='WeightProgress'),
    Setting('净地完成率权重', None, None, 'weight',
            '综合得分权重', name='WeightNetLand'),
    Setting('工业用地征地完成率权重', None, None, 'weight',
            '综合得分权重（单位没有工业用地项目时，按其余指标的权重折算）', name='WeightIndustrial'),
    Setting('进度占比率口径', 'progress_basis', '剔除期初已净地', 'choice',
            '进度占比率的项目范围：剔除期初已净地（本期开始时已净地的项目不计入分子分母） 或 全部项目（旧口径）', choices=PROGRESS_BASES),
    Setting('全县口径', 'city_basis', '市级项目', 'choice',
            '“全县”一行按哪些项目计算（与市里排名的口径一致）：市级项目 或 全部项目', choices=CITY_BASES),
    Setting('本期起始日期', 'period_start', None, 'date',
            '进度占比率的统计起点；留空则为统计日期前“本期天数”天'),
    Setting('本期天数', 'period_days', 7, 'int',
            '本期起始日期留空时，本期的天数'),
    Setting('报送截止时间', 'report_cutoff', '21:00', 'time',
            '每天报送的截止时间（晚上例会前）；之后收到的台账照常计入，但在今日报送情况中标为逾时'),
    Setting('时区', 'time_zone', DEFAULT_ZONE, 'zone',
            '收到时间、运行时间按哪个时区记：默认 UTC+8（北京时间）；服务器在别的时区时也按此记'),
    Setting('无进展天数', 'stall_days', 3, 'int',
            '连续多少天各项累计数都没有增加，标为“无进展”'),
    Setting('临期天数', 'due_soon_days', 7, 'int',
            '距净地交付期限不足多少天，标为“临期”', name='DueSoonDays'),
    Setting('单日增幅警告比例', 'jump_ratio', 0.3, 'ratio',
            '一次报送比上次增加超过计划数的这个比例时给出警告'),
    Setting('历史显示天数', 'history_days', 30, 'int',
            '“历史”表显示最近多少天的数据（历史库中全部保留）'),
    Setting('历史显示行数上限', 'history_rows', 20000, 'int',
            '“历史”表最多显示多少行（最新的在前；Excel 一张表最多约 104 万行）'),
    Setting('报送文件上限(MB)', 'max_file_mb', 20, 'int',
            '超过此大小的报送文件直接退回'),
    Setting('解压后上限(MB)', 'max_unzip_mb', 100, 'int',
            'xlsx 解压后超过此大小（可能是压缩炸弹）直接退回'),
    Setting('台账行数上限', 'max_rows', 5000, 'int',
            '“进度台账”超过此行数直接退回'),
    Setting('台账列数上限', 'max_cols', 100, 'int',
            '“进度台账”超过此列数直接退回'),
    Setting('单元格字数上限', 'max_cell_chars', 2000, 'int',
            '单元格文字超过此长度直接退回'),
    Setting('县名', 'county', '', 'text-or-blank',
            '通报、督查日报的发文单位前加的县名，如 清河县；留空则只写“县”'),
    Setting('发文单位', 'issuer', '县重点项目和民生工程用地保障攻坚指挥部', 'text',
            '通报落款和版头的发文单位'),
    Setting('期数格式', 'number_pattern', '〔{年}〕第{期}期', 'text',
            '通报期数的写法：{年} 换成年份，{期} 换成期数（每年、每种文书各自从 1 编号）'),
    Setting('主送', 'notice_to', '各攻坚工作组，县直有关单位', 'text',
            '通报的主送单位'),
    Setting('抄送', 'notice_cc', '县委、县政府主要领导，县委、县政府分管领导', 'text-or-blank',
            '通报末尾的抄送单位；留空则不写'),
    Setting('通报开头语', 'notice_opening', '为贯彻落实“每日一督查、每周一通报”工作机制，现将重点项目和民生工程用地保障攻坚进展情况通报如下。', 'text',
            '通报正文的第一段'),
    Setting('通报工作要求', 'notice_closing', '各工作组要对照作战图、时间表，倒排工期、挂图作战，细化到岗、细化到人；对通报指出的问题，责任领导要亲自研究，限期整改到位。', 'text',
            '通报正文的最后一段（工作要求）'),
    Setting('节点列表', 'milestones', '、'.join(DEFAULT_MILESTONES), 'text',
            '节点计划（作战图）中每个项目（及地块）的节点，按先后顺序用顿号分隔；征收、房屋协议、拆除、清表、净地交付由台账推算完成日期，其余请在“节点计划”中录入'),
    Setting('节点工期(天)', 'milestone_days', DEFAULT_DAYS, 'text',
            '倒排工期：每个节点的标准天数（节点名加天数，顿号分隔）。以净地交付期限为准，净地交付之前的节点逐个向前倒排'
            '（上一节点的计划完成日期＝本节点计划完成日期－本节点工期），之后的节点按净地交付后的天数排定；'
            '“节点计划”中录入的计划完成日期优先，并从它继续倒排'),
    Setting('通报存档文件夹', 'notice_archive', '通报存档', 'text',
            '每次发出的通报、督查日报存一份 Word 文档到这里（相对母表所在文件夹）'),
)
DEFAULTS: tuple[tuple[str, object, str], ...] = tuple((s.key, s.default, s.note) for s in TABLE)
# Defined names that formulas use to read a setting's value cell.
SETTING_NAMES = {s.key: s.name for s in TABLE if s.name}
WEIGHT_KEYS = dict(zip(("acquisition_rate", "progress_ratio", "net_land_rate", "industrial_rate"),
                       (s.key for s in TABLE if s.kind == "weight")))


def _default(attr: str) -> object:
    """A field's default, as the table has it."""
    return next(s.default for s in TABLE if s.attr == attr)


@dataclass(frozen=True)
class Settings:
    """The parsed 设置; the defaults are the table's."""
    inbox: str = _default("inbox")
    archive: str = _default("archive")
    returned: str = _default("returned")
    backups: str = _default("backups")
    backup_count: int = _default("backup_count")
    store: str = _default("store")
    rank_unit: str = _default("rank_unit")
    red_k: int = _default("red_k")
    black_k: int = _default("black_k")
    tie_rule: str = _default("tie_rule")
    net_land_basis: str = _default("net_land_basis")
    progress_basis: str = _default("progress_basis")
    city_basis: str = _default("city_basis")
    weights: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    period_start: dt.date | None = _default("period_start")
    period_days: int = _default("period_days")
    stall_days: int = _default("stall_days")
    due_soon_days: int = _default("due_soon_days")
    report_cutoff: dt.time = parse_cutoff(_default("report_cutoff"))
    time_zone: str = _default("time_zone")
    jump_ratio: float = _default("jump_ratio")
    history_days: int = _default("history_days")
    history_rows: int = _default("history_rows")
    max_file_mb: int = _default("max_file_mb")
    max_unzip_mb: int = _default("max_unzip_mb")
    max_rows: int = _default("max_rows")
    max_cols: int = _default("max_cols")
    max_cell_chars: int = _default("max_cell_chars")
    county: str = _default("county")
    issuer: str = _default("issuer")
    number_pattern: str = _default("number_pattern")
    notice_to: str = _default("notice_to")
    notice_cc: str = _default("notice_cc")
    notice_opening: str = _default("notice_opening")
    notice_closing: str = _default("notice_closing")
    notice_archive: str = _default("notice_archive")
    milestones: str = _default("milestones")
    milestone_days: str = _default("milestone_days")

    @property
    def zone(self) -> dt.tzinfo:
        """设置 › 时区 as a tzinfo: the zone every time of a run is kept in."""
        return zone_of(self.time_zone)

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




def _as_int(key: str, value: object, minimum: int) -> int:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise SettingsError(f"设置“{key}”应为整数，实际为“{value}”。请在“设置”表中改正。") from None
    if number != int(number) or number < minimum:
        raise SettingsError(f"设置“{key}”应为不小于 {minimum} 的整数，实际为“{value}”。请在“设置”表中改正。")
    return int(number)


def _parse(setting: Setting, value: object) -> object:
    key = setting.key
    if setting.kind == "int":
        return _as_int(key, value, 1)
    if setting.kind == "ratio":
        try:
            return float(value)
        except (TypeError, ValueError):
            raise SettingsError(f"设置“{key}”应为小数（如 0.3），实际为“{value}”。") from None
    if setting.kind == "time":
        cutoff = parse_cutoff(value)
        if cutoff is None:
            raise SettingsError(f"设置“{key}”应为时间（如 21:00），实际为“{value}”。请在“设置”表中改正。")
        return cutoff
    if setting.kind == "zone":
        if parse_zone(value) is None:
            raise SettingsError(f"设置“{key}”应为时区（如 UTC+8），实际为“{value}”。请在“设置”表中改正。")
        return str(value).strip()
    if setting.kind == "date":
        date = parse_date(value)
        if date is None:
            raise SettingsError(f"设置“{key}”应为日期（如 2026-11-17）或留空，实际为“{value}”。")
        return date
    if setting.kind == "choice":
        choice = str(value).strip()
        if choice not in setting.choices:
            raise SettingsError(f"设置“{key}”应为 {' / '.join(setting.choices)} 之一，实际为“{choice}”。")
        return choice
    return str(value).strip()


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_settings(values: dict[str, object]) -> Settings:
    """Settings from the 设置 sheet's key/value pairs; blanks take the defaults."""
    parsed: dict[str, object] = {}
    weights = []
    for setting in TABLE:
        value = values.get(setting.key)
        if setting.kind == "weight":
            weight = 0.0
            if not _blank(value):
                try:
                    weight = float(str(value).strip())
                except ValueError:
                    weight = -1.0
                if weight < 0:
                    raise SettingsError(f"设置“{setting.key}”应为不小于 0 的数字或留空，实际为“{value}”。")
            weights.append(weight)
            continue
        if setting.kind == "text-or-blank" and setting.key in values:  # blank here means "none", not the default
            parsed[setting.attr] = "" if value is None else str(value).strip()
            continue
        if _blank(value):
            value = setting.default
            if value is None:
                parsed[setting.attr] = None
                continue
        parsed[setting.attr] = _parse(setting, value)
    parsed["weights"] = tuple(weights)
    return Settings(**parsed)
