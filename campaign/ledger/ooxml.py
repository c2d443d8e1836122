"""An xlsx file as what it is, a zip of XML parts, checked before any parser reads it.

The parsers (calamine, ElementTree) trust what they are given: a zip directory that
understates a part's size makes them inflate far more than was checked; an entity
declaration makes them resolve or expand it; one value in row 1,048,576 makes calamine
build a grid of a million rows. So every part is read here first, once, in bounded pieces:

- the zip directory: not too many parts, no name twice, only stored or deflated parts,
  nothing encrypted, the declared sizes within the limit;
- every part inflated from its own bytes in pieces, never beyond the size it declares, to
  the end of its stream, and checked against its CRC-32;
- no part declares a DOCTYPE or an ENTITY (external entities, entity expansion) or is in
  UTF-16 (which would hide them from this scan);
- in every worksheet, no cell holding a value lies beyond the rows and columns a ledger
  can have, and the cells are not more than it can hold. A cell's position is where
  calamine puts it: its ``r`` attribute, or else counted from the row's ``r`` or the rows
  and cells before it. The sheet's <dimension> is not trusted (calamine does not use it
  either, and openpyxl's streaming writer leaves it out). Files as Excel, WPS, LibreOffice
  and openpyxl write them (every cell written ``<c r="A3"``) are checked with a few
  searches over each piece; any other form, or a cell beyond the limits, is read again
  tag by tag, the way calamine reads it, to find where its cells really are.

Memory stays at a piece (1 MB) of one part at a time; time is one inflation of the file.
No Flask here.
"""

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import iterparse

from openpyxl.utils import get_column_letter

PIECE = 1 << 20  # inflated bytes looked at in one go
MAX_PARTS = 1000  # Excel writes a dozen or two
MAX_MARKUP_GAP = 1 << 20  # a cell holds at most 32,767 characters: no text runs this long
MAX_WORKBOOK_PART = 8 << 20  # xl/workbook.xml and its relationships, parsed whole

REPAIR = "请在 Excel 或 WPS 中打开后重新保存为 .xlsx 再上传"
DAMAGED = "文件不完整或已损坏，无法打开，请重新保存后上传"


class FileRefused(Exception):
    """The file cannot be read as a ledger at all (wrong type, too big, damaged, crafted)."""


@dataclass(frozen=True)
class Limits:
    """What a file may hold: a part's cells at most ``rows`` down and ``columns`` across
    (1-based, inclusive), ``cells`` in all, ``unpacked`` bytes of parts in all."""

    rows: int
    columns: int
    cells: int
    unpacked: int


@dataclass
class Package:
    """What the checks learnt: the sheets by name and the parts that hold a formula."""

    sheets: dict[str, str] = field(default_factory=dict)  # sheet name -> part
    formula_parts: set[str] = field(default_factory=set)


def inspect(data: bytes, limits: Limits) -> Package:
    """Check the zip and every part of ``data`` (see the module); FileRefused in Chinese."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, struct.error):
        raise FileRefused(DAMAGED) from None
    by_name = _check_directory(infos, limits)
    package = Package()
    package.sheets = _sheets(data, by_name)
    names = {part: name for name, part in package.sheets.items()}
    cells = 0
    for info in infos:
        # Every part, not only those the workbook names: a reader may find its parts by
        # other paths (calamine follows _rels/.rels, and matches names in any case).
        sheet = names.get(info.filename)
        label = f"工作表「{sheet}」" if sheet is not None else f"“{info.filename}”"
        cells += _check_part(data, info, label, limits, package)
        if cells > limits.cells:
            raise FileRefused(
                f"文件中的单元格过多（超过{limits.cells}个），请只保留附表1、附表2 的数据后重新上传"
            )
    return package


def _check_directory(infos: list[zipfile.ZipInfo], limits: Limits) -> dict[str, zipfile.ZipInfo]:
    if len(infos) > MAX_PARTS:
        raise FileRefused(f"文件由{len(infos)}个部分组成，不像 Excel 保存的文件，已拒绝")
    by_name: dict[str, zipfile.ZipInfo] = {}
    seen: set[str] = set()
    for info in infos:
        if info.filename.lower() in seen:
            raise FileRefused(f"文件中有两个同名的部分（{info.filename}），可能被篡改，已拒绝")
        seen.add(info.filename.lower())
        by_name[info.filename] = info
        if info.flag_bits & 0x1:
            raise FileRefused("文件设置了打开密码（已加密），请取消密码后另存为 .xlsx 再上传")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FileRefused(f"文件使用了 Excel 不用的压缩方式，{REPAIR}")
    unpacked = sum(i.file_size for i in infos)
    if unpacked > limits.unpacked:
        raise FileRefused(
            f"文件解压后过大（{unpacked / 1024 / 1024:.0f} MB），可能是压缩炸弹，已拒绝"
        )
    if "xl/workbook.xml" not in by_name:
        raise FileRefused("这不是 Excel 工作簿（缺少 xl/workbook.xml），请保存为 .xlsx")
    return by_name


# ---- a part's bytes -------------------------------------------------------------------


def inflate(data: bytes, info: zipfile.ZipInfo, label: str) -> Iterator[bytes]:
    """The part's bytes in pieces of at most PIECE, inflated from its own compressed bytes:
    refused as soon as they run past the size the directory declares, or if they end short
    of it, or the stream does, or the CRC-32 differs. ``label`` names the part."""
    damaged = f"文件已损坏或被篡改（其中的{label}与文件目录记录的不符），已拒绝；{REPAIR}"
    offset = info.header_offset
    if data[offset : offset + 4] != b"PK\x03\x04":
        raise FileRefused(damaged)
    name_length, extra_length = struct.unpack_from("<HH", data, offset + 26)
    name = data[offset + 30 : offset + 30 + name_length]
    if name.decode("utf-8" if info.flag_bits & 0x800 else "cp437") != info.orig_filename:
        raise FileRefused(damaged)
    start = offset + 30 + name_length + extra_length
    raw = memoryview(data)[start : start + info.compress_size]
    if len(raw) != info.compress_size:
        raise FileRefused(damaged)
    crc, size = 0, 0
    if info.compress_type == zipfile.ZIP_STORED:
        pieces: Iterator[bytes] = (bytes(raw[i : i + PIECE]) for i in range(0, len(raw), PIECE))
    else:
        pieces = _inflated(raw, damaged)
    for piece in pieces:
        size += len(piece)
        if size > info.file_size:
            raise FileRefused(
                f"文件已被篡改（其中的{label}解压后超过文件目录记录的大小），"
                "可能是恶意构造的文件，已拒绝"
            )
        crc = zlib.crc32(piece, crc)
        yield piece
    if size != info.file_size or crc != info.CRC:
        raise FileRefused(damaged)


def _inflated(raw: memoryview, damaged: str) -> Iterator[bytes]:
    """The deflated ``raw`` in pieces of at most PIECE (the caller stops at the declared
    size, so a lie costs at most one piece)."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    position = 0
    fed: bytes | memoryview
    try:
        while not inflater.eof:
            if inflater.unconsumed_tail:
                fed = inflater.unconsumed_tail
            elif position < len(raw):
                fed, position = raw[position : position + PIECE], position + PIECE
            else:
                fed = b""  # what zlib still holds
            piece = inflater.decompress(fed, PIECE)
            if piece:
                yield piece
            elif not fed:
                raise FileRefused(damaged)  # the stream stops short of its end
    except zlib.error:
        raise FileRefused(damaged) from None


# ---- the workbook: which part is which sheet ----------------------------------------------

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _sheets(data: bytes, by_name: dict[str, zipfile.ZipInfo]) -> dict[str, str]:
    """Sheet name -> part, from xl/workbook.xml and its relationships (checked first)."""
    targets = {}
    for _, el in _parsed(data, by_name.get("xl/_rels/workbook.xml.rels")):
        if el.tag.endswith("Relationship"):
            targets[el.get("Id")] = (el.get("Target") or "").lstrip("/").removeprefix("xl/")
    sheets = {}
    for _, el in _parsed(data, by_name["xl/workbook.xml"]):
        if el.tag == f"{_MAIN}sheet":
            sheets[el.get("name") or ""] = "xl/" + targets.get(el.get(f"{_REL}id"), "")
    return sheets


def _parsed(data: bytes, info: zipfile.ZipInfo | None):
    if info is None:
        return
    label = f"“{info.filename}”"
    if info.file_size > MAX_WORKBOOK_PART:
        raise FileRefused(f"文件中的{label}过大，不像 Excel 保存的文件，已拒绝")
    content = b"".join(_xml_pieces(data, info, label))  # checked first
    try:
        yield from iterparse(io.BytesIO(content))
    except SyntaxError:
        raise FileRefused(f"文件中的{label}不是有效的 XML，{REPAIR}") from None


# ---- every part: entities, and a worksheet's cells ------------------------------------------

_DECLARATION = re.compile(rb"<!(?i:doctype|entity)")
_ENCODING = re.compile(rb"""(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)""")
# A byte-order mark, or "<" in UTF-16 (or UTF-32).
_UTF16_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")
_FORMULA = re.compile(rb"<f[\s/>]")
_PREFIXED_FORMULA = re.compile(rb"<[\w.-]+:f[\s/>]")
_SHEET_DATA = re.compile(rb"<(?:[\w.-]+:)?sheetData[\s/>]")
_PREFIXED_CELL = re.compile(rb":(?:c|row)[\s/>]")  # <x:c ...>: read tag by tag
_TAG = re.compile(
    rb"<(/?)(?:[\w.-]+:)?(row|c)"
    rb"((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>"
)
_ATTRIBUTE = re.compile(rb"""\s+([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_POSITION = re.compile(rb"([A-Za-z]{0,3})(\d{1,10})")


def _xml_pieces(data: bytes, info: zipfile.ZipInfo, label: str) -> Iterator[bytes]:
    """The part's bytes in pieces that each end before a '<' (so no tag is cut in two),
    refused if it declares a DOCTYPE or ENTITY, or is XML in another encoding than UTF-8
    (which this scan could not read). Other parts (pictures, printer settings) pass through
    the same scan: a DOCTYPE in their bytes by chance is beyond likely."""
    carry = b""
    first = True
    for piece in inflate(data, info, label):
        if first:
            first = False
            declared = _ENCODING.match(piece)
            if piece[:2] in _UTF16_STARTS or (
                declared and declared.group(1).lower() not in (b"utf-8", b"utf8")
            ):
                raise FileRefused(f"文件中的{label}不是 UTF-8 编码，{REPAIR}")
        buffer = carry + piece
        cut = buffer.rfind(b"<")
        if cut <= 0:
            if len(buffer) > MAX_MARKUP_GAP:
                raise FileRefused(
                    f"文件中的{label}有超过 1 MB 不含任何标记的内容，不像 Excel 保存的文件，已拒绝"
                )
            carry = buffer
            continue
        carry = buffer[cut:]
        yield _declared(buffer[:cut], label)
    if carry:
        yield _declared(carry, label)


def _declared(piece: bytes, label: str) -> bytes:
    if _DECLARATION.search(piece):
        raise FileRefused(
            f"文件中的{label}含有 XML 实体声明（DOCTYPE/ENTITY），Excel 保存的文件不会有，"
            "可能是恶意构造的文件，已拒绝"
        )
    return piece


def _has_formula(piece: bytes) -> bool:
    return _FORMULA.search(piece) is not None or (
        b":f" in piece and _PREFIXED_FORMULA.search(piece) is not None
    )


def _check_part(
    data: bytes, info: zipfile.ZipInfo, label: str, limits: Limits, package: Package
) -> int:
    """Read one part through (see the module); the cells it holds if it is a worksheet."""
    cells, in_sheet, exact = 0, False, False
    for piece in _xml_pieces(data, info, label):
        if not in_sheet:
            found = _SHEET_DATA.search(piece)
            if found is None:
                continue
            in_sheet, piece = True, piece[found.start() :]
        if _has_formula(piece):
            package.formula_parts.add(info.filename)
        if exact:
            continue
        if _PREFIXED_CELL.search(piece) or _unusual(limits).search(piece):
            exact = True
            continue
        cells += piece.count(b'<c r="')
    if exact:
        return _cells_as_read(data, info, label, limits)
    return cells


_unusual_patterns: dict[Limits, re.Pattern] = {}


def _unusual(limits: Limits) -> re.Pattern:
    """A cell tag not written as Excel writes it, <c r="A3" (the position first, upper-case,
    no leading zero), or beyond the limits. One search over a piece finds either."""
    if limits not in _unusual_patterns:
        column = _at_most(get_column_letter(limits.columns), "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        row = _at_most(str(limits.rows), "0123456789")
        pattern = f'<c(?! r="(?:{column})(?:{row})")[\\s/>]'
        _unusual_patterns[limits] = re.compile(pattern.encode())
    return _unusual_patterns[limits]


def _at_most(last: str, digits: str) -> str:
    """A regular expression for the numerals from the first up to ``last``, in the place
    value system of ``digits`` ("0123456789": 1 … 200002; "AB…Z" with no zero: A … AD)."""
    zero = digits[0] == "0"  # decimal: no leading zero; letters: "A" leads as any other
    first = digits[1:] if zero else digits
    options = []
    if len(last) > 1:
        options.append(f"[{first[0]}-{first[-1]}][{digits[0]}-{digits[-1]}]{{0,{len(last) - 2}}}")
    for i, ch in enumerate(last):
        lower = (first if i == 0 else digits)[: (first if i == 0 else digits).index(ch)]
        if lower:
            rest = len(last) - i - 1
            options.append(
                f"{last[:i]}[{lower[0]}-{lower[-1]}][{digits[0]}-{digits[-1]}]{{{rest}}}"
            )
    options.append(last)
    return "|".join(options)


def _cells_as_read(data: bytes, info: zipfile.ZipInfo, label: str, limits: Limits) -> int:
    """Every cell with content where calamine places it (its own ``r``, else counted on
    from the row's ``r`` or the rows and cells before); refused at the first beyond the
    limits. Returns how many there are."""
    row, column, cells, started = 0, 0, 0, False  # 0-based, as calamine counts
    for piece in _xml_pieces(data, info, label):
        if not started:
            found = _SHEET_DATA.search(piece)
            if found is None:
                continue
            started, piece = True, piece[found.start() :]
        for tag in _TAG.finditer(piece):
            closing, name, attributes, empty = tag.groups()
            if closing:
                if name == b"row":
                    row, column = row + 1, 0
                continue
            if empty:
                continue  # <row/> and <c/> hold nothing; calamine skips them
            position = _attribute(attributes, b"r")
            if name == b"row":
                if position is not None:
                    row = _row_of(position, label) - 1
                continue
            if position is not None:
                letters, number = _split(position, label)
                row_at, column = int(number) - 1, _column_of(letters)
            else:
                row_at = row
            cells += 1
            if row_at + 1 > limits.rows or column + 1 > limits.columns:
                raise FileRefused(
                    f"{label}第{row_at + 1}行{get_column_letter(min(column + 1, 16384))}列"
                    f"有内容，超出了台账文件的范围（最多到第{limits.rows}行、"
                    f"{get_column_letter(limits.columns)}列）；请删除表格以外的内容后重新上传"
                )
            column += 1
    return cells


def _attribute(attributes: bytes, wanted: bytes) -> bytes | None:
    """The value of the attribute named ``wanted`` (exactly, as calamine asks for it)."""
    for found in _ATTRIBUTE.finditer(attributes):
        if found.group(1) == wanted:
            return found.group(2) if found.group(2) is not None else found.group(3)
    return None


def _split(position: bytes, label: str) -> tuple[bytes, bytes]:
    match = _POSITION.fullmatch(position)
    if match is None or not match.group(1) or int(match.group(2)) < 1:
        raise FileRefused(f"文件中的{label}有无效的单元格位置，{REPAIR}")
    return match.group(1), match.group(2)


def _row_of(position: bytes, label: str) -> int:
    match = _POSITION.fullmatch(position)
    if match is None or int(match.group(2)) < 1:
        raise FileRefused(f"文件中的{label}有无效的行号，{REPAIR}")
    return int(match.group(2))


def _column_of(letters: bytes) -> int:
    """0-based column of "A", "AB", …"""
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - ord("A") + 1
    return number - 1
