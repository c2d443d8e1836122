"""Crafted xlsx files, made at test time from a real one (openpyxl's, as a user's Excel
would write it) by rewriting its parts or its zip headers. Nothing binary is committed.

The base is a ledger with 附表1 holding one row (江岸甲制造有限公司, CODE_A) on line 3 and
an empty 附表2; openpyxl writes 附表1 as xl/worksheets/sheet1.xml with inline strings.
"""

import io
import re
import struct
import zipfile
import zlib

from openpyxl import Workbook

from tests.ledger.conftest import (
    CODE_A,
    ENTERPRISE_HEADERS,
    ENTERPRISE_SHEET,
    SOCIAL_HEADERS,
    SOCIAL_SHEET,
    enterprise,
    ledger_xlsx,
)

SHEET = "xl/worksheets/sheet1.xml"  # 附表1
NAME = "江岸甲制造有限公司"


def base() -> bytes:
    return ledger_xlsx([enterprise(NAME, CODE_A)])


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def rezip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in parts.items():
            z.writestr(name, content)
    return buffer.getvalue()


def with_part(data: bytes, name: str, change) -> bytes:
    """``data`` with part ``name`` replaced by ``change(its bytes)``."""
    parts = members(data)
    parts[name] = change(parts[name])
    return rezip(parts)


def _with_doctype(xml: bytes, doctype: bytes) -> bytes:
    """``doctype`` before the root element (after the XML declaration if there is one)."""
    if xml.startswith(b"<?xml"):
        declaration, rest = xml.split(b"?>", 1)
        return declaration + b"?>" + doctype + rest
    return doctype + xml


def xxe() -> bytes:
    """The name cell reads an external entity pointing at /etc/passwd."""
    doctype = b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return with_part(
        base(),
        SHEET,
        lambda xml: _with_doctype(xml, doctype).replace(NAME.encode(), b"&xxe;"),
    )


def billion_laughs() -> bytes:
    """附表1's part declares nine levels of ten-fold entities (10^9 "lol"s) and the
    name cell uses the last."""
    entities = b'<!ENTITY lol0 "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"".join(b"&lol%d;" % (i - 1) for _ in range(10)))
        for i in range(1, 10)
    )
    doctype = b"<!DOCTYPE lolz [" + entities + b"]>"
    return with_part(
        base(),
        SHEET,
        lambda xml: _with_doctype(xml, doctype).replace(NAME.encode(), b"&lol9;"),
    )


def _central_entry(data: bytes, name: str) -> int:
    """Where the central directory's record of ``name`` starts."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(name)
    record = b"PK\x01\x02"
    at = data.find(record)
    while at != -1:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == name.encode():
            assert struct.unpack_from("<I", data, at + 42)[0] == info.header_offset
            return at
        at = data.find(record, at + 4)
    raise AssertionError(f"{name} not in the central directory")


def _patch(data: bytes, name: str, **fields: int) -> bytes:
    """Rewrite ``crc``, ``compressed`` or ``size`` of member ``name`` in both its local
    header and its central directory record."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        local = z.getinfo(name).header_offset
    central = _central_entry(data, name)
    out = bytearray(data)
    offsets = {"crc": (14, 16), "compressed": (18, 20), "size": (22, 24)}
    for key, value in fields.items():
        in_local, in_central = offsets[key]
        struct.pack_into("<I", out, local + in_local, value)
        struct.pack_into("<I", out, central + in_central, value)
    return bytes(out)


def understated(real_mb: int = 400) -> bytes:
    """附表1's part really inflates to ``real_mb`` MB (its rows padded with blank space
    inside sheetData) while both zip headers say it is as small as the original part. The
    CRC is the real one: only the size lies."""
    parts = members(base())
    original = parts[SHEET]
    head, tail = original.split(b"</sheetData>", 1)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    padding = b" " * (1 << 20)
    chunks = [compressor.compress(head)]
    crc, size = zlib.crc32(head), len(head)
    for _ in range(real_mb):
        chunks.append(compressor.compress(padding))
        crc, size = zlib.crc32(padding, crc), size + len(padding)
    end = b"</sheetData>" + tail
    chunks += [compressor.compress(end), compressor.flush()]
    crc, size = zlib.crc32(end, crc), size + len(end)
    compressed = b"".join(chunks)
    # Written with a placeholder of the right compressed length, then the real bytes and
    # headers put in.
    parts[SHEET] = b"\0" * len(compressed)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:  # stored: the placeholder's bytes stay as given
        for name, content in parts.items():
            z.writestr(name, content, compress_type=zipfile.ZIP_STORED)
    data = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo(SHEET)
    start = info.header_offset + 30 + len(SHEET.encode()) + len(info.extra)
    data[start : start + len(compressed)] = compressed
    for at in (info.header_offset + 8, _central_entry(bytes(data), SHEET) + 10):
        struct.pack_into("<H", data, at, zipfile.ZIP_DEFLATED)  # method: deflate
    assert size > len(original)
    return _patch(bytes(data), SHEET, crc=crc, compressed=len(compressed), size=len(original))


def bad_crc() -> bytes:
    """附表1's part intact, its CRC-32 in both headers off by one."""
    data = base()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        crc = z.getinfo(SHEET).CRC
    return _patch(data, SHEET, crc=(crc + 1) & 0xFFFFFFFF)


def far_cell(dimension: bytes | None = None) -> bytes:
    """One value in A1048576 (Excel's last row) below the ledger's row; ``dimension``
    replaces the sheet's <dimension ref> (openpyxl writes the true A1:T1048576)."""
    wb = Workbook()
    wb.remove(wb.active)
    ws = wb.create_sheet(ENTERPRISE_SHEET)
    ws.append([f"{ENTERPRISE_SHEET}  调查摸底表"])
    ws.append(ENTERPRISE_HEADERS)
    row = enterprise(NAME, CODE_A)
    ws.append([row.get(h) for h in ENTERPRISE_HEADERS])
    ws["A1048576"] = "x"
    social = wb.create_sheet(SOCIAL_SHEET)
    social.append([f"{SOCIAL_SHEET}  调查摸底表"])
    social.append(SOCIAL_HEADERS)
    buffer = io.BytesIO()
    wb.save(buffer)
    data = buffer.getvalue()
    if dimension is None:
        return data

    def lie(xml: bytes) -> bytes:
        true = re.search(rb'<dimension ref="([^"]+)"', xml)
        assert true.group(1) == b"A1:T1048576"
        return xml[: true.start(1)] + dimension + xml[true.end(1) :]

    return with_part(data, SHEET, lie)


def positionless() -> bytes:
    """附表1's part with no positions at all: after the ledger's row, 300,000 empty rows
    (<row></row>, each moving the next row down) and then a row with one value, which a
    reader places on row 300,004."""

    def strip(xml: bytes) -> bytes:
        head, rest = xml.split(b"<sheetData>", 1)
        rows, tail = rest.split(b"</sheetData>", 1)
        rows = rows.replace(b' r="', b' x="')  # every position gone (rows and cells)
        blank = b"<row></row>" * 300_000
        last = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
        return head + b"<sheetData>" + rows + blank + last + b"</sheetData>" + tail

    return with_part(base(), SHEET, strip)


def unusual_but_fair() -> dict[str, bytes]:
    """The base file in forms Excel does not write but other tools do, each still a fair
    ledger: no positions on rows and cells; the sheet's elements namespace-prefixed (x:);
    positions in lower case."""

    def positionless_only(xml: bytes) -> bytes:
        return xml.replace(b' r="', b' x="')

    def prefixed(xml: bytes) -> bytes:
        xml = xml.replace(b"<worksheet xmlns=", b"<x:worksheet xmlns:x=")
        xml = re.sub(rb"<(/?)(?!x:)(\w+)", rb"<\1x:\2", xml)
        return xml

    def lower(xml: bytes) -> bytes:
        return re.sub(rb' r="([A-Z]+)(\d+)"', lambda m: b' r="%s%s"' % (m[1].lower(), m[2]), xml)

    return {
        name: with_part(base(), SHEET, change)
        for name, change in (
            ("no_positions", positionless_only),
            ("prefixed", prefixed),
            ("lower_case", lower),
        )
    }
