"""附表1/附表2 as xlsx: the column spec, writing (template and export), and reading with
row-level validation.

Reading refuses a file whole: every problem is listed with its sheet, row, column
and field, in Chinese. Values are normalised only where that is unambiguous
(full-width digits and letters, stray spaces, "12.0" for 12). No Flask here.
"""

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from difflib import get_close_matches
from itertools import repeat
from operator import itemgetter
from typing import Any, BinaryIO
from xml.etree.ElementTree import iterparse

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Border, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from campaign import rules
from campaign.core import clock
from campaign.core.cells import for_cell
from campaign.core.styled_cells import THIN, header_cells, safe_value
from campaign.core.text import TextRefused, clean, field_of, within
from campaign.core.vocab import (
    STATUSES_OF,
    Affiliation,
    EnterpriseCategory,
    Labelled,
    LiaisonRole,
    OperatingStatus,
    OrgKind,
    PartyOrgStatus,
    RegistrationLevel,
    SocialCategory,
    canonical_tags,
)
from campaign.ledger import creditcode, fields, ooxml
from campaign.ledger.models import Organization
from campaign.ledger.ooxml import FileRefused

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # a zip bomb unpacks far beyond this
MAX_ROWS = 200_000
HEADER_ROW = 2  # row 1 holds the form's title
# The template's 30 columns fit in A-AF; calamine builds a sheet as the grid from A1 to its
# farthest cell, so the grid of a sheet is at most (MAX_ROWS + HEADER_ROW) x MAX_COLUMNS
# cells, and a file holds at most as many cells with content.
MAX_COLUMNS = 32
LIMITS = ooxml.Limits(
    rows=MAX_ROWS + HEADER_ROW,
    columns=MAX_COLUMNS,
    cells=(MAX_ROWS + HEADER_ROW) * MAX_COLUMNS,
    unpacked=MAX_UNPACKED_BYTES,
)
YES, NO = "是", "否"


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    kind: str  # text, code, int, enum, tags (several of enum, 、-separated), bool, date, area, district
    required: bool = False
    enum: type[Labelled] | None = None
    width: int = 12
    optional_column: bool = False  # files without this column are accepted
    # Values of ``enum`` this sheet does not take, with the reason a cell holding one is told.
    refused: tuple[tuple[str, str], ...] = ()

    def choices(self) -> list[str]:
        if self.enum is not None:
            refused = {value for value, _ in self.refused}
            return [m.label for m in self.enum if m.value not in refused]
        return [YES, NO] if self.kind == "bool" else []


@dataclass(frozen=True)
class SheetSpec:
    kind: OrgKind
    title: str
    caption: str
    columns: tuple[Column, ...]

    def column(self, field_name: str) -> Column:
        return next(c for c in self.columns if c.field == field_name)


def _column(of: OrgKind, field_name: str, kind: str, **options: Any) -> Column:
    """A column of the 附表 of ``of``, headed as that sheet names the field (fields.header)."""
    return Column(field_name, fields.header(field_name, of), kind, **options)


def _party_columns(of: OrgKind) -> tuple[Column, ...]:
    # 功能型 Party orgs are for social organizations (seed 004), and so is the count of
    # members whose Party relationship is elsewhere that makes one fit (optional: files made
    # before it still import).
    social = of == OrgKind.SOCIAL
    elsewhere = (_column(of, "members_elsewhere", "int", optional_column=True, width=10),)
    functional = () if social else ((PartyOrgStatus.FUNCTIONAL.value, _NO_FUNCTIONAL),)
    return (
        _column(of, "employees", "int", required=True, width=10),
        _column(of, "formal_members", "int", required=True, width=10),
        _column(of, "probationary_members", "int", required=True, width=10),
        *(elsewhere if social else ()),
        _column(of, "investor", "text", width=12),
        _column(of, "investor_is_member", "bool", width=10),
        _column(
            of,
            "party_org_status",
            "enum",
            required=True,
            enum=PartyOrgStatus,
            refused=functional,
        ),
        _column(of, "party_org_name", "text", width=28),
        _column(of, "party_org_founded_on", "date", optional_column=True),
        _column(of, "no_party_org_reason", "text", width=20),
        _column(of, "instructor", "text"),
        _column(of, "mass_organizations", "text"),
        _column(of, "measures", "text", width=24),
        _column(of, "planned_on", "date"),
        _column(of, "responsible_person", "text"),
        *_phase_columns(of),
    )


def _phase_columns(of: OrgKind) -> tuple[Column, ...]:
    """Seed 004 phases 5 and 6, per Party org: its 隶属关系 and whether it is put right (理顺),
    and the 第一书记 or 党建工作指导员 sent to a new one. Optional (files made before them still
    import, the ledger keeping its values); checked together in ``_check_phase_columns``."""
    return (
        _column(of, "affiliation", "enum", enum=Affiliation, optional_column=True, width=10),
        _column(of, "affiliation_settled", "bool", optional_column=True, width=10),
        _column(of, "affiliation_settled_on", "date", optional_column=True),
        _column(of, "liaison_role", "enum", enum=LiaisonRole, optional_column=True, width=14),
        _column(of, "liaison_name", "text", optional_column=True),
        _column(of, "liaison_unit", "text", optional_column=True, width=16),
        _column(of, "liaison_assigned_on", "date", optional_column=True),
    )


_NO_FUNCTIONAL = f"{rules.FUNCTIONAL_NOT_FOR_ENTERPRISES}（社会组织请填附表2）"
_E, _S = OrgKind.ENTERPRISE, OrgKind.SOCIAL


def _status_column(of: OrgKind, **options: Any) -> Column:
    """经营状态 with the statuses of ``of`` (vocab.STATUSES_OF); the other kind's are refused
    with the statuses this sheet takes."""
    other = _S if of == _E else _E
    allowed = "、".join(s.label for s in STATUSES_OF[of])
    why = f"这是{other.label}的状态（{of.label}可填：{allowed}）"
    refused = tuple((s.value, why) for s in STATUSES_OF[other] if s not in STATUSES_OF[of])
    return _column(of, "operating_status", "enum", enum=OperatingStatus, refused=refused, **options)


ENTERPRISE_SHEET = SheetSpec(
    _E,
    "附表1 非公企业",
    "附表1  非公有制企业党建工作情况调查摸底表",
    (
        _column(_E, "name", "text", required=True, width=30),
        _column(_E, "credit_code", "code", required=True, width=21),
        _column(_E, "district_name", "district", width=10),
        _column(_E, "area_name", "area", width=16),
        _column(_E, "tags", "tags", required=True, enum=EnterpriseCategory, width=14),
        _status_column(_E, required=True),
        *_party_columns(_E),
    ),
)
SOCIAL_SHEET = SheetSpec(
    _S,
    "附表2 社会组织",
    "附表2  社会组织党建工作情况调查摸底表",
    (
        _column(_S, "name", "text", required=True, width=30),
        _column(_S, "credit_code", "code", required=True, width=21),
        _column(_S, "district_name", "district", width=10),
        _column(_S, "area_name", "area", width=16),
        _column(_S, "registration_level", "enum", required=True, enum=RegistrationLevel),
        _column(_S, "tags", "tags", required=True, enum=SocialCategory, width=14),
        # Optional: files made before social organizations could leave the base still import
        # (their rows keep the status the ledger has; an added one is 正常).
        _status_column(_S, required=True, optional_column=True),
        _column(_S, "supervising_unit", "text", width=16),
        *_party_columns(_S),
    ),
)
SHEETS = {ENTERPRISE_SHEET.kind: ENTERPRISE_SHEET, SOCIAL_SHEET.kind: SOCIAL_SHEET}
INSTRUCTIONS_SHEET = "填写说明"
CHOICES_SHEET = "代码表"
# The Organization columns a ledger file carries (the sheet gives "kind"; 街道/园区 is by name).
LEDGER_FIELDS = sorted(
    {c.field for s in SHEETS.values() for c in s.columns} - {"area_name"} | {"kind"}
)
# A file row's value of a field its sheet does not have, or an older file lacks, when the
# ledger has none to keep (an added organization).
# Seed 004's phases 5 and 6 not recorded: no 隶属关系, not put right, nobody sent.
NO_PHASES = {
    "affiliation": None,
    "affiliation_settled": False,
    "affiliation_settled_on": None,
    "liaison_role": None,
    "liaison_name": "",
    "liaison_unit": "",
    "liaison_assigned_on": None,
}
ABSENT = {
    "members_elsewhere": 0,
    "operating_status": OperatingStatus.NORMAL.value,
    **NO_PHASES,
}
# The columns holding dates (kept as ISO text in a preview and a change request).
DATE_FIELDS = tuple(
    sorted({c.field for s in SHEETS.values() for c in s.columns if c.kind == "date"})
)


# ---- problems ---------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the file, with where it is."""

    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""  # letter
    header: str = ""

    def __str__(self) -> str:
        where = f"「{self.sheet}」" if self.sheet else ""
        if self.row:
            where += f"第{self.row}行"
        if self.column:
            where += f"{self.column}列"
        if self.header:
            where += f"「{self.header}」"
        return f"{where}：{self.message}" if where else self.message


@dataclass
class ReadResult:
    rows: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class UnitContext:
    """What validation needs to know about the importing unit."""

    name: str
    is_district: bool
    areas: tuple[str, ...]  # its streets/towns/parks, by name


# ---- writing ------------------------------------------------------------------


def _cell_value(column: Column, value: Any, ws) -> Any:
    if value is None:
        return None
    if column.kind == "enum":
        assert column.enum is not None  # every "enum" column names its enum
        return column.enum(value).label
    if column.kind == "tags":
        assert column.enum is not None  # every "tags" column names its enum
        return "、".join(column.enum(v).label for v in value)
    if column.kind == "bool":
        return YES if value else NO
    return safe_value(ws, value)


def _print_ready(ws, heading: str) -> None:
    """Set a ledger sheet up to print as units file it: landscape A4, the header row again on
    every page, the columns fitted to the page's width, and the line naming the unit, who
    filled it in and when atop every page. (Before its rows: a write-only sheet writes its
    properties first.)"""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddHeader.left.text = heading
    ws.oddHeader.left.size = 10
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _bordered(ws, columns: int, rows: int) -> None:
    """Borders on the table's filled rows, shown and printed by Excel and WPS alike: one rule
    for the whole table rather than a style on each of up to millions of cells."""
    if rows:
        last = get_column_letter(columns)
        ws.conditional_formatting.add(
            f"A{HEADER_ROW + 1}:{last}{HEADER_ROW + rows}",
            FormulaRule(
                formula=["TRUE"], border=Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
            ),
        )


def write_workbook(
    rows_by_kind: Mapping[OrgKind, Iterable[Mapping[Any, Any]]],
    areas: Iterable[str],
    out: BinaryIO,
    heading: str = "",
) -> int:
    """Write 附表1 and 附表2 (plus instructions and dropdown lists) to ``out``, each sheet ready
    to print under ``heading`` (填报单位/填报人/日期); returns rows."""
    wb = Workbook(write_only=True)
    choices = wb.create_sheet(CHOICES_SHEET)
    lists = _write_choices(choices, sorted({for_cell(a) for a in areas}))
    choices.sheet_state = "hidden"
    written = 0
    for kind, spec in SHEETS.items():
        ws = wb.create_sheet(spec.title, index=len(wb.worksheets) - 1)
        ws.freeze_panes = f"C{HEADER_ROW + 1}"
        _print_ready(ws, heading)
        for i, column in enumerate(spec.columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = column.width
        for i, column in enumerate(spec.columns, start=1):
            ref = lists.get(_choice_key(spec, column))
            if ref:
                letter = get_column_letter(i)
                dv = DataValidation(
                    type="list",
                    formula1=ref,
                    allow_blank=True,
                    # A street not listed yet, or several categories (规模以上、互联网), are
                    # typed; the list offers one.
                    showErrorMessage=column.kind not in ("area", "tags"),
                    errorTitle="取值无效",
                    error=f"请从下拉列表中选择「{column.header}」",
                )
                dv.add(f"{letter}{HEADER_ROW + 1}:{letter}{MAX_ROWS}")
                ws.data_validations.append(dv)
        title = WriteOnlyCell(ws, value=spec.caption)
        title.font = Font(bold=True, size=14)
        ws.append([title])
        ws.append(header_cells(ws, (c.header + ("*" if c.required else "") for c in spec.columns)))
        sheet_rows = 0
        for row in rows_by_kind.get(kind, ()):
            ws.append([_cell_value(c, row.get(c.field), ws) for c in spec.columns])
            sheet_rows += 1
        _bordered(ws, len(spec.columns), sheet_rows)
        written += sheet_rows
    _write_instructions(wb.create_sheet(INSTRUCTIONS_SHEET, index=0))
    wb.save(out)
    return written


def _choice_key(spec: SheetSpec, column: Column) -> str:
    # Both sheets have a category column, with different lists (and the enterprises' Party
    # org status has no 功能型).
    if column.field == "tags" or column.refused:
        return f"{column.field}_{spec.kind}"
    return column.field


def _write_choices(ws, areas: list[str]) -> dict[str, str]:
    """One column per dropdown on the hidden 代码表 sheet; returns choice key -> range."""
    columns: dict[str, list[str]] = {}
    for spec in SHEETS.values():
        for column in spec.columns:
            if column.choices():
                columns[_choice_key(spec, column)] = column.choices()
    if areas:
        columns["area_name"] = areas
    ws.append(list(columns))
    depth = max(len(v) for v in columns.values())
    for i in range(depth):
        ws.append([v[i] if i < len(v) else None for v in columns.values()])
    refs = {}
    for i, (name, values) in enumerate(columns.items(), start=1):
        letter = get_column_letter(i)
        refs[name] = f"'{CHOICES_SHEET}'!${letter}$2:${letter}${len(values) + 1}"
    return refs


INSTRUCTIONS = [
    "填写说明",
    "1. 本表按“六个清楚”填写：经营运行、职工队伍、党员队伍、党组织、出资人（负责人）、未建党组织原因。",
    "2. 非公企业填「附表1 非公企业」，社会组织填「附表2 社会组织」；每个组织一行，第2行为表头，请勿修改表头和工作表名称。",
    "3. 带 * 的列必填。统一社会信用代码为18位，系统按 GB 32100 校验最后一位校验码。",
    "4. 企业类别、经营状态、登记层级、类别、党组织状态、是否党员等列请从下拉列表中选择。",
    "5. 从业人员数、正式党员数、预备党员数填非负整数；正式党员数不能超过从业人员数。“有党员”按正式党员与预备党员合计，“3名以上正式党员”只计正式党员。",
    "6. 日期填写为 2026-09-10 格式。请填写数值，不要使用公式。",
    "7. 空壳、僵尸、影子企业经工商部门核实后填写相应经营状态，不纳入党建基数；停业（暂停经营、仍在登记）的企业仍纳入基数。"
    "已注销、被撤销登记或长期停止活动的社会组织在附表2「经营状态」填写相应状态，不纳入党建基数；"
    "附表2没有「经营状态」列的旧文件仍可导入，各组织保持原有状态。",
    "8. 附表2「组织关系在外党员数」填正式党员中组织关系在原机关事业单位等外单位的人数（一方隶属，不重复统计），不能超过正式党员数；"
    "超过正式党员半数的社会组织可建立功能型党组织。非公企业不能填报功能型党组织。",
    "9. 表末各列（可不填，旧文件没有这些列仍可导入）：已建党组织的填「党组织隶属关系」（属地、行业、主管部门；"
    "非公企业党组织原则上属地管理，市级社会组织以行业和主管部门管理为主，区级及以下社会组织以属地管理为主），"
    "隶属关系已理顺的填“是”和理顺时间；对新组建的党组织选派第一书记或党建工作指导员的，填选派类别、姓名、所在单位和选派时间。"
    "尚未建立党组织的，指导员填「党建工作指导员」列。日期不能晚于填报当天。",
    "10. 上传后系统逐行校验：任何一处有误，整份文件不导入，并列出所有问题的工作表、行、列和字段。",
]


def _write_instructions(ws) -> None:
    ws.column_dimensions["A"].width = 120
    for line in INSTRUCTIONS:
        ws.append([line])


# ---- a refused file given back, marked ----------------------------------------------

PROBLEMS_SHEET = "校验问题"
_BAD = PatternFill("solid", fgColor="FF8080")  # red: what must be corrected
_BAD_AUTHOR = "台账校验"


def annotate(data: bytes, problems: Sequence[Problem]) -> bytes:
    """The uploaded file ``data`` as it was, with every cell a problem names filled red and a
    comment saying what is wrong (a problem of a whole row marks its first cell), and a first
    sheet listing every problem with where it is: for the operator to correct in WPS or Excel
    and upload again."""
    wb = load_workbook(io.BytesIO(data))
    marks: dict[tuple[str, str], list[str]] = {}
    for problem in problems:
        if problem.sheet in wb.sheetnames and problem.row:
            what = f"「{problem.header}」{problem.message}" if problem.header else problem.message
            marks.setdefault((problem.sheet, f"{problem.column or 'A'}{problem.row}"), []).append(
                what
            )
    for (sheet, ref), messages in marks.items():
        cell = wb[sheet][ref]
        cell.fill = _BAD
        comment = Comment("\n".join(messages), _BAD_AUTHOR)
        comment.width, comment.height = 320, 40 + 30 * len(messages)
        cell.comment = comment
    listing = wb.create_sheet(PROBLEMS_SHEET, 0)
    listing.column_dimensions["A"].width = 120
    title = listing.cell(
        1, 1, f"文件未通过校验，共{len(problems)}处问题；标红的单元格附有批注说明，改正后重新上传。"
    )
    title.font = Font(bold=True)
    for i, problem in enumerate(problems, start=2):
        listing.cell(i, 1, for_cell(str(problem)))
    wb.active = 0
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws is listing
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---- reading ------------------------------------------------------------------

_CELL_REF = re.compile(r"([A-Z]+)(\d+)")
_DATE_TEXT = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def _looks_like_csv(sample: bytes) -> bool:
    """Text (UTF-8 or GB18030, as Excel and WPS save CSV) with commas or tabs in it.

    The sample may end inside a multi-byte character, so a cut character is ignored.
    """
    for encoding in ("utf-8", "gb18030"):
        text = sample.decode(encoding, errors="ignore")
        printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
        if text and printable >= 0.95 * len(text) and len(text) >= 0.5 * len(sample) / 3:
            return "," in text or "\t" in text
    return False


def check_file(data: bytes) -> ooxml.Package:
    """Refuse what is not a readable xlsx (too big, old .xls, encrypted, CSV, damaged, a zip
    bomb) or is crafted against its readers (see ``ooxml``); what the checks learnt."""
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused(
            f"文件过大（{len(data) / 1024 / 1024:.1f} MB），上限为{MAX_FILE_BYTES // 1024 // 1024} MB"
        )
    if len(data) == 0:
        raise FileRefused("文件为空")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        if "EncryptionInfo".encode("utf-16-le") in data or b"EncryptedPackage" in data.replace(
            b"\x00", b""
        ):
            raise FileRefused("文件设置了打开密码（已加密），请取消密码后另存为 .xlsx 再上传")
        raise FileRefused("这是旧版 Excel（.xls）文件，请在 Excel 或 WPS 中另存为 .xlsx 后再上传")
    if data[:4] != b"PK\x03\x04":
        if _looks_like_csv(data[:2048]):
            raise FileRefused("这不是 xlsx 文件（内容是 CSV 文本），请用模板填写后保存为 .xlsx")
        raise FileRefused("这不是 xlsx 文件，请用下载的模板填写后保存为 .xlsx")
    return ooxml.inspect(data, LIMITS)


def _formula_cells(data: bytes, package: ooxml.Package) -> dict[str, dict[str, dict[int, bool]]]:
    """Per sheet name and column letter: the rows holding a formula -> whether a cached value
    is stored. Only the sheets ``check_file`` saw a formula in are parsed, as a stream."""
    out: dict[str, dict[str, dict[int, bool]]] = {}
    ns_main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name, path in package.sheets.items():
            if path not in package.formula_parts:
                continue
            cells: dict[str, dict[int, bool]] = {}
            with z.open(path) as part:
                for _, el in iterparse(part):
                    if el.tag == f"{ns_main}c":
                        formula = el.find(f"{ns_main}f")
                        if formula is not None:
                            value = el.find(f"{ns_main}v")
                            where = _CELL_REF.fullmatch(el.get("r") or "")
                            if where is None:
                                raise FileRefused(
                                    f"「{name}」中有公式的单元格没有位置，"
                                    "请在 Excel 或 WPS 中重新保存为 .xlsx 后上传"
                                )
                            letter, number = where.groups()
                            cells.setdefault(letter, {})[int(number)] = (
                                value is not None and (value.text or "") != ""
                            )
                        el.clear()
            if cells:
                out[name] = cells
    return out


def _norm_text(value: Any) -> str:
    """Text with runs of whitespace (full-width spaces too) as one space, trimmed."""
    if type(value) is str:  # most cells: no conversion to try
        return " ".join(value.split())
    if value is None:
        return ""
    if type(value) is float and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _nfkc(text: str) -> str:
    """Full-width digits and letters to ASCII (unambiguous); other text unchanged."""
    return unicodedata.normalize("NFKC", text)


class _CellError(ValueError):
    pass


def _parse_int(value: Any) -> int:
    if type(value) is float and value >= 0 and value.is_integer():
        return int(value)  # the common case, straight from the cell
    if value is None or value == "":
        raise _CellError("不能为空，请填写整数（没有请填0）")
    if isinstance(value, bool):
        raise _CellError(f"应为整数，而不是“{value}”")
    if isinstance(value, (int, float)):
        number = value
    else:
        text = _nfkc(_norm_text(value)).replace(",", "")
        try:
            number = float(text)
        except ValueError:
            raise _CellError(f"应为整数，而不是“{_norm_text(value)}”") from None
    if not float(number).is_integer():
        raise _CellError(f"应为整数，而不是“{number}”")
    if number < 0:
        raise _CellError(f"不能为负数（{int(number)}）")
    return int(number)


def _parse_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _norm_text(value)
    if not text:
        return None
    match = _DATE_TEXT.match(_nfkc(text))
    if match:
        try:
            return date(*map(int, match.groups()))
        except ValueError:
            pass
    raise _CellError(f"应为日期（如 2026-09-10），而不是“{text}”")


def _parse_bool(value: Any) -> bool:
    text = _norm_text(value)
    if text in ("", NO):
        return False
    if text == YES:
        return True
    raise _CellError(f"应填“是”或“否”，而不是“{text}”")


def _parse_code(value: Any) -> str:
    if type(value) is str and value.isascii() and value.isalnum():
        code = value.upper()  # the common case: nothing to normalise
    else:
        code = _nfkc(_norm_text(value)).replace(" ", "").upper()
    if not code:
        raise _CellError("不能为空")
    problem = creditcode.problem(code)
    if problem:
        raise _CellError(f"{problem}（{code}）")
    return code


def _parser(column: Column, ctx: UnitContext) -> Callable[[Any], Any]:
    """The function that turns one raw cell of ``column`` into a ledger value; text is
    cleaned first (``campaign.core.text.clean``: composed, no control characters)."""
    parse = _value_parser(column, ctx)

    def parse_cell(value: Any) -> Any:
        if type(value) is str:
            try:
                value = clean(value)
            except TextRefused as e:
                raise _CellError(str(e)) from None
        return parse(value)

    return parse_cell


def _max_length(column: Column) -> int | None:
    """The most characters the ledger column behind a text cell holds."""
    spec = field_of(Organization.__table__.c[column.field])
    return spec.max_length if spec else None


def _within(text: str, max_length: int | None) -> str:
    try:
        return within(text, max_length)
    except TextRefused as e:
        raise _CellError(str(e)) from None


def _parse_count(value: Any) -> int:
    """An optional count: a blank cell is 0."""
    return 0 if _blank(value) else _parse_int(value)


# Between the categories of one cell: 、 as users write them, and the commas and semicolons
# (full- or half-width) and slashes they also type.
_TAG_SEPARATORS = re.compile(r"[、，,；;/／\s]+")


def _value_parser(column: Column, ctx: UnitContext) -> Callable[[Any], Any]:
    if column.kind == "int":
        return _parse_int if column.required else _parse_count
    if column.kind == "date":
        return _parse_date
    if column.kind == "bool":
        return _parse_bool
    if column.kind == "code":
        return _parse_code
    if column.kind == "text":
        max_length = _max_length(column)

        def parse_text(value: Any) -> str:
            text = _norm_text(value)
            if column.required and not text:
                raise _CellError("不能为空")
            return _within(text, max_length)

        return parse_text
    if column.kind == "enum":
        assert column.enum is not None  # every "enum" column names its enum
        refused = dict(column.refused)
        by_label = {m.label: m.value for m in column.enum}
        allowed = "、".join(column.choices())

        def parse_enum(value: Any) -> str | None:
            text = _norm_text(value)
            code = by_label.get(text)
            if code in refused:
                raise _CellError(f"不能填“{text}”：{refused[code]}")
            if code is not None:
                return code
            if not text and not column.required:
                return None
            if not text:
                raise _CellError(f"不能为空（可选：{allowed}）")
            raise _CellError(f"“{text}”不是可选值（可选：{allowed}）")

        return parse_enum
    if column.kind == "tags":
        assert column.enum is not None  # every "tags" column names its enum
        by_label = {m.label: m.value for m in column.enum}
        allowed = "、".join(column.choices())
        kind = OrgKind.ENTERPRISE if column.enum is EnterpriseCategory else OrgKind.SOCIAL

        def parse_tags(value: Any) -> list[str]:
            labels = [t.strip() for t in _TAG_SEPARATORS.split(_norm_text(value)) if t.strip()]
            if not labels:
                raise _CellError(f"不能为空（可选：{allowed}，多个用“、”分隔）")
            unknown = [t for t in labels if t not in by_label]
            if unknown:
                named = "、".join(f"“{t}”" for t in unknown)
                raise _CellError(f"{named}不是可选值（可选：{allowed}，多个用“、”分隔）")
            return canonical_tags(kind, [by_label[t] for t in labels])

        return parse_tags
    if column.kind == "district":
        max_length = _max_length(column)

        def parse_district(value: Any) -> str:
            text = _norm_text(value)
            if ctx.is_district and text and text != ctx.name:
                raise _CellError(f"应为本单位“{ctx.name}”，而不是“{text}”")
            return ctx.name if ctx.is_district else _within(text, max_length)

        return parse_district
    if column.kind == "area":
        areas = set(ctx.areas)

        def parse_area(value: Any) -> str:
            text = _norm_text(value)
            if text and text not in areas:
                near = get_close_matches(text, ctx.areas, n=1)
                hint = f"（是否应为“{near[0]}”？）" if near else ""
                raise _CellError(f"“{text}”不是{ctx.name}的街道（乡镇）/园区{hint}")
            return text

        return parse_area
    raise AssertionError(column.kind)


def _match_sheet(name: str) -> SheetSpec | None:
    clean = _norm_text(name).replace(" ", "")
    for spec in SHEETS.values():
        if clean == spec.title.replace(" ", "") or clean.startswith(spec.title[:3]):
            return spec
    return None


def _header_map(
    spec: SheetSpec, header: list, sheet: str, problems: list[Problem]
) -> dict[int, Column]:
    by_header = {c.header: c for c in spec.columns}
    found: dict[int, Column] = {}
    unknown = []
    for i, raw in enumerate(header):
        text = _norm_text(raw).rstrip("*").replace(" ", "")
        if not text:
            continue
        text = _nfkc(text).replace("(", "（").replace(")", "）")
        column = by_header.get(text)
        if column is None:
            unknown.append((i, text))
        elif column in found.values():
            problems.append(Problem("列重复", sheet, HEADER_ROW, get_column_letter(i + 1), text))
        else:
            found[i] = column
    missing = [c for c in spec.columns if c not in found.values() and not c.optional_column]
    for i, text in unknown:
        near = get_close_matches(text, [c.header for c in missing], n=1, cutoff=0.4)
        hint = f"，是否应为「{near[0]}」？" if near else ""
        problems.append(
            Problem(f"不是模板中的列{hint}", sheet, HEADER_ROW, get_column_letter(i + 1), text)
        )
    for column in missing:
        problems.append(
            Problem(
                "缺少必需的列（请使用下载的模板，不要修改表头）",
                sheet,
                HEADER_ROW,
                "",
                column.header,
            )
        )
    return found


def read_workbook(
    data: bytes,
    ctx: UnitContext,
    progress: Callable[[int, int], None] | None = None,
) -> ReadResult:
    """Read and validate a ledger file; ``rows`` are normalised ledger fields (+ sheet, row)."""
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError

    package = check_file(data)
    result = ReadResult()
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except PasswordError:
        raise FileRefused("文件设置了打开密码（已加密），请取消密码后再上传") from None
    except CalamineError as e:
        raise FileRefused(f"文件无法读取（{e}），请在 Excel 或 WPS 中重新保存为 .xlsx") from None

    def rows_of(name: str, skip_empty_area: bool = True) -> list[list]:
        try:
            return wb.get_sheet_by_name(name).to_python(skip_empty_area=skip_empty_area)
        except CalamineError as e:
            raise FileRefused(
                f"工作表「{name}」无法读取（{e}），请在 Excel 或 WPS 中重新保存为 .xlsx"
            ) from None

    try:
        formulas = _formula_cells(data, package)
    except SyntaxError:  # ElementTree's ParseError
        raise FileRefused(
            "文件中的工作表不是有效的 XML，请在 Excel 或 WPS 中重新保存为 .xlsx"
        ) from None
    specs: list[tuple[str, SheetSpec]] = []
    for name in wb.sheet_names:
        if name in (INSTRUCTIONS_SHEET, CHOICES_SHEET):
            continue
        spec = _match_sheet(name)
        if spec is None:
            rows = rows_of(name)
            if all(_norm_text(v) == "" for row in rows for v in row):
                # An empty "Sheet1" left by Excel or LibreOffice holds nothing to misread.
                result.notices.append(f"已忽略空白工作表「{name}」")
                continue
            known = "、".join(f"「{s.title}」" for s in SHEETS.values())
            result.problems.append(Problem(f"未知的工作表（应为 {known}）", name))
        elif any(s is spec for _, s in specs):
            result.problems.append(Problem(f"与另一张工作表重复，都是「{spec.title}」", name))
        else:
            specs.append((name, spec))
    if not specs and not result.problems:
        result.problems.append(Problem("文件中没有「附表1 非公企业」或「附表2 社会组织」工作表"))
    sheets = [(name, spec, rows_of(name, skip_empty_area=False)) for name, spec in specs]
    total = sum(max(0, len(rows) - HEADER_ROW) for _, _, rows in sheets)
    if total > MAX_ROWS:
        raise FileRefused(f"行数过多（{total}行），单个文件最多{MAX_ROWS}行")
    done = 0
    seen: dict[str, str] = {}
    for name, spec, rows in sheets:
        if len(rows) < HEADER_ROW:
            result.problems.append(Problem(f"第{HEADER_ROW}行应为表头", name))
            continue
        columns = _header_map(spec, rows[HEADER_ROW - 1], name, result.problems)
        if any(c not in columns.values() and not c.optional_column for c in spec.columns):
            done += len(rows) - HEADER_ROW
            continue  # the missing columns are reported; rows without them cannot be read
        _read_sheet(spec, name, rows, columns, ctx, formulas.get(name, {}), result, seen)
        if progress:
            done += len(rows) - HEADER_ROW
            progress(done, total)
    if progress:
        progress(total, total)
    return result


def _letter(parsers: list, field_name: str) -> str:
    return next((get_column_letter(i + 1) for i, c, _ in parsers if c.field == field_name), "")


def _blank(value: Any) -> bool:
    """Whether a cell holds nothing (``_norm_text`` gives "")."""
    return value is None or (type(value) is str and not value.strip())


def _parse_cells(parse: Callable[[Any], Any], cells: tuple) -> tuple[list, dict[int, str]]:
    """``parse`` over one column: the values (None where bad) and {position: message}.

    Each distinct cell value is parsed once, and problems are looked up per cell only when a
    value was bad: most columns hold a few values many times (choices, counts, streets). A
    dict would merge True with 1 (equal, same hash) though they read differently, so a column
    holding both is parsed cell by cell.
    """
    distinct = set(cells)
    if (0 in distinct or 1 in distinct) and _bools_among_numbers(cells):
        values, errors = [], {}
        for position, value in enumerate(cells):
            try:
                values.append(parse(value))
            except _CellError as e:
                values.append(None)
                errors[position] = str(e)
        return values, errors
    parsed, bad = {}, {}
    for value in distinct:
        try:
            parsed[value] = parse(value)
        except _CellError as e:
            bad[value] = str(e)
    values = list(map(parsed.get, cells))
    errors = {p: bad[v] for p, v in enumerate(cells) if v in bad} if bad else {}
    return values, errors


def _bools_among_numbers(cells: tuple) -> bool:
    types = set(map(type, cells))
    return bool in types and (int in types or float in types)


_NO_PARTY_ORG_FOR = "未建党组织，不能填写{what}（{why}）"
_LIAISON_WITHOUT_ORG = (
    "选派第一书记或党建工作指导员针对新组建的党组织；尚未建立党组织的，请填写「党建工作指导员」列"
)
PHASE_FIELDS = (
    "affiliation",
    "affiliation_settled",
    "affiliation_settled_on",
    "liaison_role",
    "liaison_name",
    "liaison_unit",
    "liaison_assigned_on",
)


def phase_problems(row: Mapping[str, Any], today: date) -> list[tuple[str, str]]:
    """What is wrong with one row's 隶属关系 / 理顺 / 选派 (``PHASE_FIELDS``) given its
    ``party_org_status``, as (field, message): the cells disagree with one another or with
    the row's Party org, or a day is later than ``today`` (a campaign records what has been
    done). A field absent from ``row`` (a file without its column) is not checked. The one
    check of the 附表 and of the organization page's form."""
    found: list[tuple[str, str]] = []
    no_org = row["party_org_status"] == PartyOrgStatus.NONE.value
    affiliation, settled = row.get("affiliation"), row.get("affiliation_settled")
    settled_on, assigned_on = row.get("affiliation_settled_on"), row.get("liaison_assigned_on")
    role, name, unit = row.get("liaison_role"), row.get("liaison_name"), row.get("liaison_unit")
    for field_name, on in (
        ("affiliation_settled_on", settled_on),
        ("liaison_assigned_on", assigned_on),
    ):
        if on is not None and on > today:
            found.append((field_name, f"不能晚于今天（{on.isoformat()}）"))
    if no_org and affiliation:
        why = "隶属关系针对已建立的党组织"
        found.append(("affiliation", _NO_PARTY_ORG_FOR.format(what="隶属关系", why=why)))
    if settled and "affiliation" in row and not affiliation:
        found.append(("affiliation_settled", "已理顺的，须填写「党组织隶属关系」"))
    if settled and "affiliation_settled_on" in row and settled_on is None:
        found.append(("affiliation_settled_on", "已理顺的，须填写理顺时间"))
    if settled_on is not None and not settled and "affiliation_settled" in row:
        found.append(("affiliation_settled_on", "隶属关系未理顺，不应填写理顺时间"))
    if "liaison_name" in row:
        if name and no_org:
            found.append(("liaison_name", _LIAISON_WITHOUT_ORG))
        elif (role or unit or assigned_on is not None) and not name:
            message = "填写了选派类别、单位或时间，须填写第一书记（指导员）姓名"
            found.append(("liaison_name", message))
        elif name and "liaison_role" in row and not role:
            found.append(("liaison_role", "须填写第一书记或党建工作指导员"))
    return found


def _check_phase_columns(values_of: dict[str, list], bad: set[int]) -> list[tuple[int, str, str]]:
    """``phase_problems`` of every row not already refused, as (position, field, message)."""
    present = [f for f in PHASE_FIELDS if f in values_of]
    if not present:
        return []
    today = clock.today()
    found: list[tuple[int, str, str]] = []
    columns = [values_of[f] for f in ("party_org_status", *present)]
    for p, values in enumerate(zip(*columns, strict=True)):
        # Most rows fill none of them (nothing to disagree): no row built for those.
        if p not in bad and any(values[1:]):
            row = dict(zip(("party_org_status", *present), values, strict=True))
            found += [(p, f, message) for f, message in phase_problems(row, today)]
    return found


def _read_sheet(
    spec: SheetSpec,
    sheet: str,
    rows: list[list],
    columns: dict[int, Column],
    ctx: UnitContext,
    formulas: dict[str, dict[int, bool]],
    result: ReadResult,
    seen: dict[str, str],
) -> None:
    """Check one sheet a column at a time; add its rows, and its problems and notices in the
    order of the sheet (row, then column), as a row-by-row reading gives them."""
    parsers = [(i, c, _parser(c, ctx)) for i, c in columns.items()]
    data = rows[HEADER_ROW:]
    numbers: Sequence[int] = range(HEADER_ROW + 1, HEADER_ROW + 1 + len(data))
    blank = [
        p
        for p, raw in enumerate(data)
        if (not raw or _blank(raw[0])) and all(_norm_text(v) == "" for v in raw)
    ]
    if blank:  # empty rows are skipped, wherever they are
        skip = set(blank)
        numbers = [n for p, n in enumerate(numbers) if p not in skip]
        data = [raw for p, raw in enumerate(data) if p not in skip]
    width = max(i for i, _, _ in parsers) + 1
    if any(len(raw) < width for raw in data):
        data = [raw + [None] * (width - len(raw)) for raw in data]
    cells_of = list(zip(*data, strict=True)) if data else [()] * width
    position_of = {n: p for p, n in enumerate(numbers)} if formulas else {}
    found: list[tuple[int, int, Problem]] = []  # (position, order in the row, problem)
    notices: list[tuple[int, int, str]] = []
    values_of: dict[str, list] = {}
    for seq, (index, column, parse) in enumerate(parsers):
        cells = cells_of[index]
        values, errors = _parse_cells(parse, cells)
        letter = get_column_letter(index + 1)
        for number, has_value in formulas.get(letter, {}).items():
            position = position_of.get(number)
            if position is None:
                continue
            if has_value:
                text = f"是公式，已使用其计算结果“{_norm_text(cells[position])}”"
                where = Problem(text, sheet, number, letter, column.header)
                notices.append((position, seq, str(where)))
            else:
                errors[position] = "是公式但没有计算结果，请改为填写数值"
        for position, message in errors.items():
            found.append(
                (position, seq, Problem(message, sheet, numbers[position], letter, column.header))
            )
        values_of[column.field] = values
    bad = {position for position, _, _ in found}
    formal, employees = values_of["formal_members"], values_of["employees"]
    # A count that exceeds the one it is part of, named at the part's column.
    pairs = [("formal_members", employees, "从业人员数")]
    if "members_elsewhere" in values_of:
        pairs.append(("members_elsewhere", formal, "正式党员数"))
    for order, (part_field, whole, whole_header) in enumerate(pairs):
        part = values_of[part_field]
        more = [
            p for p, (n, of) in enumerate(zip(part, whole, strict=True)) if p not in bad and n > of
        ]
        header = spec.column(part_field).header
        for p in more:
            message = f"{header}（{part[p]}）多于{whole_header}（{whole[p]}）"
            letter = _letter(parsers, part_field)
            found.append(
                (p, len(parsers) + order, Problem(message, sheet, numbers[p], letter, header))
            )
            bad.add(p)
    for p, field_name, message in _check_phase_columns(values_of, bad):
        header = spec.column(field_name).header
        letter = _letter(parsers, field_name)
        order = len(parsers) + len(pairs)
        found.append((p, order, Problem(message, sheet, numbers[p], letter, header)))
        bad.add(p)
    extra: dict[str, Any] = (
        {"party_org_founded_on": None} if "party_org_founded_on" not in values_of else {}
    )
    if spec.kind == OrgKind.ENTERPRISE:
        extra.update(registration_level=None, supervising_unit="", members_elsewhere=0)
    keys = ("kind", "_sheet", "_row", *values_of, *extra)
    constants = [repeat(v) for v in extra.values()]
    code_letter = _letter(parsers, "credit_code")
    for p, row_values in enumerate(
        zip(repeat(spec.kind.value), repeat(sheet), numbers, *values_of.values(), *constants)
    ):
        if p in bad:
            continue
        row = dict(zip(keys, row_values, strict=True))
        code = row["credit_code"]
        if code in seen:
            message = f"{code} 在本文件中重复（另见{seen[code]}）"
            found.append(
                (
                    p,
                    len(parsers) + len(pairs) + 1,
                    Problem(message, sheet, numbers[p], code_letter, "统一社会信用代码"),
                )
            )
        elif code:
            seen[code] = f"「{sheet}」第{numbers[p]}行"
        result.rows.append(row)
    found.sort(key=itemgetter(0, 1))
    result.problems += [problem for _, _, problem in found]
    notices.sort(key=itemgetter(0, 1))
    result.notices += [text for _, _, text in notices]
