"""The catalogue of validation issue codes and the Issue record: errors are data, never exceptions."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum

ERROR = "错误"
WARNING = "警告"


class Code(StrEnum):
    """Every issue code; a misspelt member fails at import, where a misspelt string would fail in a run."""

    INBOX_ENTRY_SKIPPED = "inbox-entry-skipped"
    FILE_UNREADABLE = "file-unreadable"
    FILE_TOO_LARGE = "file-too-large"
    PASSWORD_PROTECTED = "password-protected"
    UNSAFE_FORMULA = "unsafe-formula"
    TOO_MANY_ROWS = "too-many-rows"
    TOO_MANY_COLUMNS = "too-many-columns"
    CELL_TOO_LONG = "cell-too-long"
    HAS_MACROS = "has-macros"
    EXTERNAL_LINKS = "external-links"
    SUPERSEDES = "supersedes"
    ARRIVED_LATE = "arrived-late"
    SHEET_MISSING = "sheet-missing"
    SHEET_AMBIGUOUS = "sheet-ambiguous"
    HEADER_MISSING = "header-missing"
    COLUMN_MISSING = "column-missing"
    COLUMN_DUPLICATE = "column-duplicate"
    COLUMN_EXTRA = "column-extra"
    NO_ROWS = "no-rows"
    UNIT_MISSING = "unit-missing"
    UNIT_UNKNOWN = "unit-unknown"
    DATE_MISSING = "date-missing"
    DATE_FUTURE = "date-future"
    DATE_STALE = "date-stale"
    PROJECT_ID_MISSING = "project-id-missing"
    PROJECT_UNKNOWN = "project-unknown"
    PROJECT_NOT_ASSIGNED = "project-not-assigned"
    PROJECT_REMOVED = "project-removed"
    PROJECT_RENUMBERED = "project-renumbered"
    ROW_DUPLICATE = "row-duplicate"
    PROJECT_MISSING = "project-missing"
    NOT_A_NUMBER = "not-a-number"
    NEGATIVE = "negative"
    NOT_WHOLE = "not-whole"
    EXCEL_ERROR = "excel-error"
    FORMULA_NO_VALUE = "formula-no-value"
    ROW_HIDDEN = "row-hidden"
    TEXT_NUMBER = "text-number"
    YESNO_INVALID = "yesno-invalid"
    DATE_INVALID = "date-invalid"
    ABOVE_PLAN = "above-plan"
    FAR_ABOVE_PLAN = "far-above-plan"
    DEMOLISHED_EXCEEDS_AGREED = "demolished-exceeds-agreed"
    CLEARED_EXCEEDS_ACQUIRED = "cleared-exceeds-acquired"
    NET_LAND_INCOMPLETE = "net-land-incomplete"
    NET_LAND_DATE_MISSING = "net-land-date-missing"
    NET_LAND_DATE_UNEXPECTED = "net-land-date-unexpected"
    CUMULATIVE_DECREASED = "cumulative-decreased"
    JUMP_LARGE = "jump-large"
    TOTAL_LINE = "total-line"
    TOTAL_MISMATCH = "total-mismatch"
    PROJECT_TAKEN_OVER = "project-taken-over"
    PARTIAL_CORRECTION = "partial-correction"
    RESAVED_COPY = "resaved-copy"


@dataclass(frozen=True)
class IssueType:
    code: Code
    severity: str
    title: str
    template: str  # str.format fields: value, expected, column, detail, project


CATALOGUE: dict[Code, IssueType] = {
    t.code: t
    for t in (
        # The file and its template.
        IssueType(Code.INBOX_ENTRY_SKIPPED, WARNING, "收件箱中未读取的项目", "{detail}"),
        IssueType(Code.FILE_UNREADABLE, ERROR, "文件无法读取",
                  "文件无法打开（{detail}）。请用 Excel 打开后另存为 .xlsx 再报送。"),
        IssueType(Code.FILE_TOO_LARGE, ERROR, "文件过大",
                  "文件{detail}为 {value}，超过上限 {expected}。请只保留“进度台账”工作表、删除无关内容后重新报送。"),
        IssueType(Code.PASSWORD_PROTECTED, ERROR, "文件设有密码",
                  "文件设置了打开密码，无法读取。请取消密码后另存为 .xlsx 再报送。"),
        IssueType(Code.UNSAFE_FORMULA, ERROR, "含外部调用公式",
                  "单元格含有外部调用公式 {value}，已拒收（公式不会被执行）。请删除公式，直接填写数值。"),
        IssueType(Code.TOO_MANY_ROWS, ERROR, "行数过多",
                  "“进度台账”有 {value} 行，超过上限 {expected} 行。请删除多余的行后重新报送。"),
        IssueType(Code.TOO_MANY_COLUMNS, ERROR, "列数过多",
                  "“进度台账”有 {value} 列，超过上限 {expected} 列。请删除多余的列后重新报送。"),
        IssueType(Code.CELL_TOO_LONG, ERROR, "单元格内容过长",
                  "单元格内容有 {value} 个字，超过上限 {expected} 个字。请精简后重新报送。"),
        IssueType(Code.HAS_MACROS, WARNING, "文件含宏",
                  "文件含有宏，宏没有运行，也不会进入母表。请以后使用 .xlsx 格式报送。"),
        IssueType(Code.EXTERNAL_LINKS, WARNING, "文件含外部链接",
                  "文件含有指向其他文件的链接，已忽略，只读取单元格中的数值。请核对数值是否为最新。"),
        IssueType(Code.SUPERSEDES, WARNING, "替代此前报送",
                  "本组 {value} 已有报送《{expected}》，以本文件为准，原报送数据已标记为“已替代”。"),
        IssueType(Code.ARRIVED_LATE, WARNING, "早于已接收的报送",
                  "本组 {value} 已接收的《{expected}》比本文件更晚写成，仍以它为准；本文件数据记为“已替代”。"
                  "如本文件才是最新的，请重新保存后再报送。"),
        IssueType(Code.PROJECT_TAKEN_OVER, WARNING, "项目当日已由他组报送",
                  "项目“{project}”{value} 已由“{expected}”报送；该项目现由本组负责，以本文件为准，不与其相加。"),
        IssueType(Code.PARTIAL_CORRECTION, WARNING, "更正只含部分项目",
                  "本文件是本组 {value} 的更正，只含部分项目；未列出的项目（{detail}）沿用同日《{expected}》的数据。"
                  "如这些项目也要更正，请报送完整台账。"),
        IssueType(Code.RESAVED_COPY, WARNING, "重新保存的旧报送",
                  "本文件的数据与本组 {value} 已处理过的《{detail}》完全相同（可能是打开旧文件后又保存），"
                  "不替代之后的更正《{expected}》，记为“已替代”。如确需以它为准，请修改后重新报送。"),
        IssueType(Code.SHEET_MISSING, ERROR, "缺少进度台账工作表",
                  "找不到“进度台账”工作表。请使用指挥部下发的模板填报。"),
        IssueType(Code.SHEET_AMBIGUOUS, ERROR, "进度台账工作表不止一个",
                  "文件中有 {value} 几个台账工作表，无法确定以哪个为准。请删除旧的，只保留一个后重新报送。"),
        IssueType(Code.HEADER_MISSING, ERROR, "找不到表头",
                  "找不到台账表头（应含“项目编号”“累计征地面积(亩)”等列）。请使用指挥部下发的模板，不要改动表头。"),
        IssueType(Code.COLUMN_MISSING, ERROR, "缺少必填列",
                  "缺少“{column}”列。请恢复模板中的该列后重新报送。"),
        IssueType(Code.COLUMN_DUPLICATE, ERROR, "列重复",
                  "“{column}”列出现了两次。请删除多余的一列。"),
        IssueType(Code.COLUMN_EXTRA, WARNING, "多余的列",
                  "“{value}”列不在模板中，已忽略。如有需要请写在“存在问题”中。"),
        IssueType(Code.NO_ROWS, ERROR, "台账没有数据",
                  "台账中没有任何项目行。请填写本组负责项目的累计数据。"),
        # Identity: 填报单位 and 填报日期.
        IssueType(Code.UNIT_MISSING, ERROR, "未填填报单位",
                  "“填报单位”为空。请在“填报单位”右侧单元格填写工作组名称。"),
        IssueType(Code.UNIT_UNKNOWN, ERROR, "填报单位不在项目清单中",
                  "填报单位“{value}”不是项目清单中的工作组。请按项目清单填写工作组全称（如“{expected}”）。"),
        IssueType(Code.DATE_MISSING, ERROR, "未填填报日期",
                  "“填报日期”为空或无法识别（{value}）。请填写日期，如 2026-11-20。"),
        IssueType(Code.DATE_FUTURE, ERROR, "填报日期晚于统计日期",
                  "填报日期 {value} 晚于统计日期 {expected}。请核对填报日期。"),
        IssueType(Code.DATE_STALE, ERROR, "填报日期早于上次报送",
                  "填报日期 {value} 早于本组上次已接收的报送（{expected}）。请报送最新台账。"),
        # Rows.
        IssueType(Code.PROJECT_ID_MISSING, ERROR, "项目编号为空",
                  "该行填了数据但“项目编号”为空。请按项目清单补填项目编号。"),
        IssueType(Code.PROJECT_UNKNOWN, ERROR, "项目编号不存在",
                  "项目编号“{value}”不在项目清单中。请核对编号，新增项目请先报指挥部录入项目清单。"),
        IssueType(Code.PROJECT_REMOVED, ERROR, "项目已移出清单",
                  "项目“{project}”此前报送过，但已不在项目清单中（已移出或改了编号），请删去该行（或改用指挥部新发的模板）"
                  "后重新报送，如该项目仍在推进请联系指挥部恢复。"),
        IssueType(Code.PROJECT_RENUMBERED, WARNING, "项目已改编号",
                  "项目编号“{value}”已改为“{project}”（见项目清单“原编号”列），本行已按“{project}”计入，历史数据一并沿用。"
                  "请以后填写新编号“{project}”（或改用指挥部新发的模板）。"),
        IssueType(Code.PROJECT_NOT_ASSIGNED, ERROR, "项目不属于本组",
                  "项目“{project}”由“{expected}”负责，不属于本组。请删除该行或联系指挥部调整。"),
        IssueType(Code.TOTAL_LINE, WARNING, "合计行未重复计入",
                  "第 {value} 行是项目“{project}”的{detail}合计行，与其各地块之和相符，已按地块计入、不再重复相加。"
                  "以后可只填地块行。"),
        IssueType(Code.TOTAL_MISMATCH, ERROR, "合计行与地块之和不符",
                  "项目“{project}”的{detail}合计行“{column}”为 {value}，但其各地块之和为 {expected}。"
                  "请核对地块数据，或删除合计行只报地块。"),
        IssueType(Code.ROW_DUPLICATE, ERROR, "项目行重复",
                  "项目“{project}”地块“{value}”重复填报了两行。请合并为一行。"),
        IssueType(Code.PROJECT_MISSING, WARNING, "项目未填报",
                  "本组负责的项目“{project}”未出现在台账中，本次按上次数据统计。请下次补报。"),
        # Cells.
        IssueType(Code.NOT_A_NUMBER, ERROR, "不是数字",
                  "“{column}”应填数字，实际为“{value}”。请只填数字，不要加文字说明。"),
        IssueType(Code.NEGATIVE, ERROR, "数值为负",
                  "“{column}”为负数 {value}。累计数不能小于 0，请更正。"),
        IssueType(Code.NOT_WHOLE, ERROR, "应为整数",
                  "“{column}”应为整数，实际为 {value}。请填写整数。"),
        IssueType(Code.EXCEL_ERROR, ERROR, "单元格为错误值",
                  "“{column}”单元格为错误值 {value}。请检查公式或直接填写数值。"),
        IssueType(Code.FORMULA_NO_VALUE, ERROR, "公式没有计算结果",
                  "“{column}”是公式 {value}，但文件中没有它的计算结果（文件未经 Excel 保存）。"
                  "请在 Excel 中打开并保存后重新报送，或直接填写数值。"),
        IssueType(Code.ROW_HIDDEN, WARNING, "隐藏行已计入",
                  "第 {value} 行被隐藏，其数据已照常计入。如该行作废，请删除该行后重新报送。"),
        IssueType(Code.TEXT_NUMBER, WARNING, "文本型数字已转换",
                  "“{column}”填写为文本“{value}”，已按 {expected} 计入。请以后直接填写数字。"),
        IssueType(Code.YESNO_INVALID, ERROR, "是否净地填写有误",
                  "“是否净地”应填“是”或“否”，实际为“{value}”。"),
        IssueType(Code.DATE_INVALID, ERROR, "日期无法识别",
                  "“{column}”无法识别为日期（{value}）。请填写日期，如 2026-11-20。"),
        # Logic within a row.
        IssueType(Code.ABOVE_PLAN, WARNING, "超过计划数",
                  "“{column}”为 {value}，超过项目清单计划数 {expected}。请核实；如计划调整请报指挥部。"),
        IssueType(Code.FAR_ABOVE_PLAN, ERROR, "远超计划数",
                  "“{column}”为 {value}，超过项目清单计划数 {expected} 的两倍，不可能是真实数据。请更正。"),
        IssueType(Code.DEMOLISHED_EXCEEDS_AGREED, ERROR, "拆除数大于协议数",
                  "累计拆除房屋 {value} 栋，多于累计签订房屋协议 {expected} 栋。请核对两项数据。"),
        IssueType(Code.CLEARED_EXCEEDS_ACQUIRED, ERROR, "清表面积大于征地面积",
                  "累计清表面积 {value} 亩，大于累计征地面积 {expected} 亩。请核对两项数据。"),
        IssueType(Code.NET_LAND_INCOMPLETE, ERROR, "未完成征拆却填净地",
                  "“是否净地”填“是”，但{detail}。请核实后更正。"),
        IssueType(Code.NET_LAND_DATE_MISSING, WARNING, "缺净地交付日期",
                  "“是否净地”为“是”，请填写“净地交付日期”。"),
        IssueType(Code.NET_LAND_DATE_UNEXPECTED, WARNING, "未净地却有交付日期",
                  "“是否净地”为“否”，但填了净地交付日期 {value}。请核实。"),
        # History.
        IssueType(Code.CUMULATIVE_DECREASED, ERROR, "累计数减少",
                  "“{column}”为 {value}，小于该项目 {detail} 已接收的累计数 {expected}。累计数只增不减，请更正；"
                  "如那次已接收的数据多报了，请指挥部先撤回那次报送（母表控制台“撤回报送”按钮，或命令 xladdin withdraw）后再重报。"),
        IssueType(Code.JUMP_LARGE, WARNING, "单日增幅过大",
                  "“{column}”比上次增加 {value}，超过{expected}。请核实是否录入错误（如多打或错打了一位数字）。"),
    )
}


@dataclass
class Issue:
    """One problem found in a submission, pinned to a file, sheet and cell."""

    code: Code
    file: str
    sheet: str = ""
    cell: str = ""
    project: str = ""
    value: str = ""
    expected: str = ""
    column: str = ""
    detail: str = ""
    group: str = ""
    severity: str = field(init=False)
    title: str = field(init=False)
    message: str = field(init=False)

    def __post_init__(self) -> None:
        self.code = Code(self.code)  # a code that is not in the catalogue fails here, loudly
        kind = CATALOGUE[self.code]
        self.severity = kind.severity
        self.title = kind.title
        self.message = kind.template.format(
            value=self.value, expected=self.expected, column=self.column,
            detail=self.detail, project=self.project,
        )

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def where(self) -> str:
        """File, sheet and cell as staff read them: 文件 › 工作表!单元格."""
        place = self.sheet + (f"!{self.cell}" if self.cell else "")
        return f"{self.file} › {place}" if place else self.file

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def flatten(issues: list[Issue], fields: tuple[str, ...] = ("code", "cell")) -> list[tuple[str, ...]]:
    """The issues reduced to the chosen fields: the oracle the tests compare with."""
    return [tuple(getattr(i, f) for f in fields) for i in issues]


assert set(CATALOGUE) == set(Code), "every Code has exactly one catalogue entry"
