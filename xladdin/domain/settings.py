"""Settings as staff keep them in the 设置 sheet: key, value, explanation; parsed with Chinese errors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from xladdin.base.clock import DEFAULT_ZONE, parse_zone, zone_of
from xladdin.base.errors import SettingsError
from xladdin.base.schema import RANK_UNITS
from xladdin.base.values import parse_date
from xladdin.domain.level import (
    LEVELS,
    LIST_RULES,
    PROGRESS_ALL,
    PROGRESS_WITHOUT_NET,
    RULE_BY_RANK,
    Level,
    level_of,
    unit_name,
)
from xladdin.domain.milestones import DEFAULT_DAYS, DEFAULT_MILESTONES
from xladdin.domain.roster import parse_cutoff

TIE_RULES = ("跳位", "中国式")
NET_LAND_BASES = ("面积", "个数")
PROGRESS_BASES = (PROGRESS_WITHOUT_NET, PROGRESS_ALL)
CITY_BASES = ("市级项目", "全部项目")
AVERAGE_BASES = ("单位平均", "合计")  # the mean of the unit rates, or Σ completed ÷ Σ plan over the ranked units
BY_LEVEL = "（按指挥部级别）"  # a default that follows 设置 › 指挥部级别 (domain/level.py)


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
    old_keys: tuple[str, ...] = ()  # keys an earlier version wrote, still read

    def default_for(self, level: Level) -> object:
        """The default written into a new master of this level (a level's own words where BY_LEVEL)."""
        return getattr(level, self.attr) if self.default == BY_LEVEL else self.default

    def note_for(self, level: Level) -> str:
        """The explanation as a master of this level shows it ({whole} and {unit} in the level's words)."""
        return self.note.replace("{whole}", level.whole).replace("{unit}", level.unit)


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
    Setting('指挥部级别', 'level', '县', 'choice',
            '县：排名单位是各工作组，通报说“全县”；市：排名单位是各县（市、区），通报说“全市”、按市里的“红黑榜”通报行文'
            '（xladdin init --city 新建的母表为 市）', choices=LEVELS),
    Setting('排名单位', 'rank_unit', '工作组', 'choice',
            '红黑榜按什么排名：工作组（即项目清单的“责任工作组”列，本级为{unit}） / 乡镇 / 项目类型',
            choices=tuple(RANK_UNITS)),
    Setting('红榜数量', 'red_k', 3, 'int',
            '红榜名额 K：按上榜规则，名次在前 K 名的上红榜（为 0 的不上红榜）', name='RedListSize'),
    Setting('黑榜数量', 'black_k', 3, 'int',
            '黑榜名额 K：按上榜规则，名次在后 K 名的上黑榜；先定黑榜，再定红榜；为 0 而有单位大于 0 的总在黑榜',
            name='BlackListSize'),
    Setting('上榜规则', 'list_rule', BY_LEVEL, 'choice',
            '前后K名：红榜＝名次≤K，黑榜＝名次＞参评数−K（按 RANK.EQ 名次，与市里通报一致）；'
            '不超过三分之一：每榜最多取 K 与参评数÷3（取整）中较小的，不足 1 时为 1，边界上并列的整组不列入。'
            '两种规则都先定黑榜，为 0 的总在黑榜。留空：市级母表为 前后K名，县级为 不超过三分之一', choices=LIST_RULES),
    Setting('平均水平口径', 'average_basis', AVERAGE_BASES[0], 'choice',
            '“低于{whole}平均水平”的平均：单位平均（各单位比率的平均） 或 合计（各单位完成数之和÷计划数之和）',
            choices=AVERAGE_BASES),
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
    Setting('进度占比率口径', 'progress_basis', BY_LEVEL, 'choice',
            '红黑榜中进度占比率的项目范围：全部项目（有进度项目个数÷总项目个数，市里的公式） 或 剔除期初已净地'
            '（本期开始时已净地的项目不计入分子分母）；“{whole}”一行总按全部项目。留空：市级母表为 全部项目，县级为 剔除期初已净地',
            choices=PROGRESS_BASES),
    Setting('汇总行口径', 'city_basis', '市级项目', 'choice',
            '“{whole}”一行按哪些项目计算：市级项目（与市里排名的口径一致） 或 全部项目', choices=CITY_BASES,
            old_keys=('全县口径',)),
    Setting('攻坚开始日期', 'campaign_start', None, 'date',
            '“攻坚以来”各项累计数的起点（如 2026-08-23）；留空则从第一份台账算起'),
    Setting('本期起始日期', 'period_start', None, 'date',
            '本期的起点（不含当天）：本期为其次日至统计日期；留空则为统计日期前“本期天数”天'),
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
    Setting('督办相似度', 'register_similarity', 0.25, 'ratio',
            '同一项目新报的“存在问题”与已有督办事项（任一历次表述）的相似度（0～1，按相邻两字计）达到此值，即并入该事项而不另立；调高拆得更细，调低并得更多；并错、拆错的可在督办台账“并入编号”“拆出表述”列改正'),
    Setting('督办待确认天数', 'silent_days', 3, 'int',
            '项目照常报送但连续多少天不再提及某督办事项，该事项转为“待确认销号”（工作人员核实后将状态改为已销号）'),
    Setting('单日增幅警告比例', 'jump_ratio', 0.3, 'ratio',
            '一次报送比上次增加超过计划数的这个比例时给出警告'),
    Setting('历史显示天数', 'history_days', 30, 'int',
            '“历史”表显示最近多少天的数据（历史库中全部保留）'),
    Setting('历史显示行数上限', 'history_rows', 20000, 'int',
            '“历史”表最多显示多少行（最新的在前；Excel 一张表最多约 104 万行）'),
    Setting('报送文件上限(MB)', 'max_file_mb', 20, 'int',
            '超过此大小的报送文件直接退回'),
    Setting('网页上传上限(MB)', 'upload_mb', 10, 'int',
            '报送平台（xladdin serve）上传的台账超过此大小直接拒收，不保存'),
    Setting('解压后上限(MB)', 'max_unzip_mb', 100, 'int',
            'xlsx 解压后超过此大小（可能是压缩炸弹）直接退回'),
    Setting('台账行数上限', 'max_rows', 5000, 'int',
            '“进度台账”超过此行数直接退回'),
    Setting('台账列数上限', 'max_cols', 100, 'int',
            '“进度台账”超过此列数直接退回'),
    Setting('单元格字数上限', 'max_cell_chars', 2000, 'int',
            '单元格文字超过此长度直接退回'),
    Setting('县名', 'county', '', 'text-or-blank',
            '通报、督查日报的发文单位前加的地名（县级母表填县名，如 清河县；市级母表填市名）；留空则不加'),
    Setting('发文单位', 'issuer', BY_LEVEL, 'text',
            '通报落款和版头的发文单位'),
    Setting('期数格式', 'number_pattern', '〔{年}〕第{期}期', 'text',
            '通报期数的写法：{年} 换成年份，{期} 换成期数（每年、每种文书各自从 1 编号）'),
    Setting('主送', 'notice_to', BY_LEVEL, 'text',
            '通报的主送单位'),
    Setting('抄送', 'notice_cc', BY_LEVEL, 'text-or-blank',
            '通报末尾的抄送单位；留空则不写'),
    Setting('通报开头语', 'notice_opening', '为贯彻落实“每日一督查、每周一通报”工作机制，现将重点项目和民生工程用地保障攻坚进展情况通报如下。', 'text',
            '通报正文的第一段'),
    Setting('通报工作要求', 'notice_closing', BY_LEVEL, 'text',
            '通报正文的最后一段（工作要求）'),
    Setting('通报点名数', 'notice_named', 2, 'int',
            '周通报正文每一类问题最多点名几项（最突出的在前），完整清单列入附件'),
    Setting('问效连续黑榜期数', 'accountability_periods', 2, 'int',
            '同一单位连续多少期列入同一指标黑榜，在周通报“督查问效”中点名'),
    Setting('问效逾期天数', 'accountability_overdue', 7, 'int',
            '督办事项超过完成时限多少天，在周通报“督查问效”中点名'),
    Setting('问效措辞', 'accountability_words', '由指挥部约谈责任领导，限期说明原因、提出整改措施', 'text',
            '“督查问效”对点名单位和事项的处理意见'),
    Setting('节点列表', 'milestones', '、'.join(DEFAULT_MILESTONES), 'text',
            '节点计划（作战图）中每个项目（及地块）的节点，按先后顺序用顿号分隔；征收、房屋协议、拆除、清表、净地交付由台账推算完成日期，其余请在“节点计划”中录入'),
    Setting('节点工期(天)', 'milestone_days', DEFAULT_DAYS, 'text',
            '倒排工期：每个节点的标准天数（节点名加天数，顿号分隔）。以净地交付期限为准，净地交付之前的节点逐个向前倒排'
            '（上一节点的计划完成日期＝本节点计划完成日期－本节点工期），之后的节点按净地交付后的天数排定；'
            '“节点计划”中各节点“计划(录入)”所填的日期优先，并从它继续倒排'),
    Setting('通报存档文件夹', 'notice_archive', '通报存档', 'text',
            '每次发出的通报、督查日报存一份 Word 文档到这里（相对母表所在文件夹）'),
)


def defaults(level_name: str = LEVELS[0]) -> tuple[tuple[str, object, str], ...]:
    """(key, default, explanation) of every row, as a new master of that level shows them."""
    level = level_of(level_name)
    return tuple((s.key, level.name if s.attr == "level" else s.default_for(level), s.note_for(level))
                 for s in TABLE)


DEFAULTS = defaults()
# Defined names that formulas use to read a setting's value cell.
SETTING_NAMES = {s.key: s.name for s in TABLE if s.name}
WEIGHT_KEYS = dict(zip(("acquisition_rate", "progress_ratio", "net_land_rate", "industrial_rate"),
                       (s.key for s in TABLE if s.kind == "weight")))


def _default(attr: str) -> object:
    """A field's default, as the table has it."""
    return next(s.default for s in TABLE if s.attr == attr)


@dataclass(frozen=True)
class Settings:
    """The parsed 设置; the defaults are the table's, and those BY_LEVEL the level's (filled on creation)."""
    inbox: str = _default("inbox")
    archive: str = _default("archive")
    returned: str = _default("returned")
    backups: str = _default("backups")
    backup_count: int = _default("backup_count")
    store: str = _default("store")
    level: str = _default("level")
    rank_unit: str = _default("rank_unit")
    red_k: int = _default("red_k")
    black_k: int = _default("black_k")
    list_rule: str | None = None
    average_basis: str = _default("average_basis")
    tie_rule: str = _default("tie_rule")
    net_land_basis: str = _default("net_land_basis")
    progress_basis: str | None = None
    city_basis: str = _default("city_basis")
    campaign_start: dt.date | None = _default("campaign_start")
    weights: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    period_start: dt.date | None = _default("period_start")
    period_days: int = _default("period_days")
    stall_days: int = _default("stall_days")
    due_soon_days: int = _default("due_soon_days")
    register_similarity: float = _default("register_similarity")
    silent_days: int = _default("silent_days")
    report_cutoff: dt.time = parse_cutoff(_default("report_cutoff"))
    time_zone: str = _default("time_zone")
    jump_ratio: float = _default("jump_ratio")
    history_days: int = _default("history_days")
    history_rows: int = _default("history_rows")
    max_file_mb: int = _default("max_file_mb")
    upload_mb: int = _default("upload_mb")
    max_unzip_mb: int = _default("max_unzip_mb")
    max_rows: int = _default("max_rows")
    max_cols: int = _default("max_cols")
    max_cell_chars: int = _default("max_cell_chars")
    county: str = _default("county")
    issuer: str | None = None
    number_pattern: str = _default("number_pattern")
    notice_to: str | None = None
    notice_cc: str | None = None
    notice_opening: str = _default("notice_opening")
    notice_closing: str | None = None
    notice_named: int = _default("notice_named")
    accountability_periods: int = _default("accountability_periods")
    accountability_overdue: int = _default("accountability_overdue")
    accountability_words: str = _default("accountability_words")
    notice_archive: str = _default("notice_archive")
    milestones: str = _default("milestones")
    milestone_days: str = _default("milestone_days")

    def __post_init__(self):
        words = self.words
        for setting in TABLE:
            if setting.default == BY_LEVEL and getattr(self, setting.attr) is None:
                object.__setattr__(self, setting.attr, getattr(words, setting.attr))

    @property
    def words(self) -> Level:
        """The level's words (设置 › 指挥部级别): 全县/全市, 工作组/县（市、区）, … (domain/level.py)."""
        return level_of(self.level)

    @property
    def by_rank(self) -> bool:
        """The city's list rule (前后K名) rather than the at-most-a-third one."""
        return self.list_rule == RULE_BY_RANK

    @property
    def leave_out_net_at_start(self) -> bool:
        """进度占比率 of the 红黑榜 without the projects already 净地 at the period start."""
        return self.progress_basis == PROGRESS_WITHOUT_NET

    @property
    def unit_name(self) -> str:
        """What the ranking units are called in print: 工作组 / 县（市、区） / 乡镇 / 项目类型."""
        return unit_name(self.words, self.rank_unit, _default("rank_unit"))

    def period_first_day(self, as_of: dt.date) -> dt.date:
        """The first day of the period that ends on as_of (the day after period_start_for): 本期 is
        period_first_day … as_of everywhere (控制台, 红黑榜, notices)."""
        return self.period_start_for(as_of) + dt.timedelta(days=1)

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




def period_text(settings: Settings, as_of: dt.date) -> str:
    """本期 as the sheets write it: 2026-11-18 至 2026-11-24 (the notices say 11月18日至11月24日, same days)."""
    return f"{settings.period_first_day(as_of).isoformat()} 至 {as_of.isoformat()}"


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
        for old in setting.old_keys:
            if setting.key not in values and old in values:
                value = values.get(old)
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
        if setting.kind == "text-or-blank" and (setting.key in values or any(k in values for k in setting.old_keys)):  # blank here means "none", not the default
            parsed[setting.attr] = None if value == BY_LEVEL else "" if value is None else str(value).strip()
            continue
        if _blank(value) or value == BY_LEVEL:  # BY_LEVEL as written in the docs: the level's default
            value = setting.default
            if value is None or value == BY_LEVEL:  # None: blank on purpose; BY_LEVEL: Settings fills it
                parsed[setting.attr] = None
                continue
        parsed[setting.attr] = _parse(setting, value)
    parsed["weights"] = tuple(weights)
    return Settings(**parsed)
