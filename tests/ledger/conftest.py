"""Builders for real ledger files: openpyxl workbooks, LibreOffice conversions, odd files.

Every file is made at test time (nothing binary is committed). The column
headers are written out by hand from DOMAIN.md §4 (plus the optional 党组织成立时间 and,
on 附表2, 组织关系在外党员数 and 经营状态), not taken from the app's spec, so a renamed column in the
app shows up here as a failure.
"""

import io
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import Workbook

from campaign.ledger import excel

ENTERPRISE_SHEET = "附表1 非公企业"
SOCIAL_SHEET = "附表2 社会组织"
# Who checks a file: 江岸区 (a district with streets), and how messages name the two sheets.
CTX = excel.UnitContext("江岸区", True, ("二七街道", "后湖街道"))
E = f"「{ENTERPRISE_SHEET}」"
S = f"「{SOCIAL_SHEET}」"

# Column letters: A 企业名称, B 统一社会信用代码, C 所在区, D 街道, E 企业类别, F 经营状态,
# G 从业人员数, H 正式党员数, I 预备党员数, ... L 党组织状态 ... S 计划完成时间, T 责任人.
ENTERPRISE_HEADERS = [
    "企业名称",
    "统一社会信用代码",
    "所在区",
    "街道（乡镇）/园区",
    "企业类别",
    "经营状态",
    "从业人员数",
    "正式党员数",
    "预备党员数",
    "出资人（负责人）",
    "出资人是否党员",
    "党组织状态",
    "党组织名称",
    "党组织成立时间",
    "未建原因",
    "党建工作指导员",
    "群团组织",
    "推进措施",
    "计划完成时间",
    "责任人",
]
# A 社会组织名称, B 代码, C 所在区, D 街道, E 登记层级, F 类别, G 经营状态 (optional),
# H 业务主管单位, I 从业人员数, J 正式党员数, K 预备党员数, L 组织关系在外党员数 (optional),
# M 负责人, N 负责人是否党员, O 党组织状态 ...
SOCIAL_HEADERS = [
    "社会组织名称",
    "统一社会信用代码",
    "所在区",
    "街道（乡镇）/园区",
    "登记层级",
    "类别",
    "经营状态",
    "业务主管单位",
    "从业人员数",
    "正式党员数",
    "预备党员数",
    "组织关系在外党员数",
    "负责人",
    "负责人是否党员",
    "党组织状态",
    "党组织名称",
    "党组织成立时间",
    "未建原因",
    "党建工作指导员",
    "群团组织",
    "推进措施",
    "计划完成时间",
    "责任人",
]
# Seed 004 phases 5 and 6: optional columns at the end of both sheets (附表1 U-AA, 附表2
# X-AD); the files above are made without them, as before they existed.
PHASE_HEADERS = [
    "党组织隶属关系",
    "隶属关系是否理顺",
    "隶属关系理顺时间",
    "选派类别",
    "第一书记（指导员）姓名",
    "第一书记（指导员）所在单位",
    "选派时间",
]

# Valid 统一社会信用代码 (GB 32100 check character last). 91 = enterprise, 51 = social
# organization; region 420102 = 江岸区. CODE_WRONG_CHECK is CODE_A with its check
# character 8 changed to 9.
CODE_A = "914201020000791938"
CODE_B = "91420102000158385L"
CODE_C = "914201020002375771"
CODE_D = "91420102000316769D"
CODE_E = "91420102000395954Y"
CODE_F = "91420102000475145N"
CODE_S = "5142010200104729X3"
CODE_T = "51420102002094581K"
CODE_WRONG_CHECK = "914201020000791939"

DISTRICT = "江岸区"
STREETS = ("二七街道", "后湖街道")


def enterprise(name: str, code: str, **cells) -> dict:
    """One 附表1 row as {header: value}: a small normal enterprise unless ``cells`` say otherwise."""
    row = {
        "企业名称": name,
        "统一社会信用代码": code,
        "所在区": DISTRICT,
        "街道（乡镇）/园区": "二七街道",
        "企业类别": "其他",
        "经营状态": "正常",
        "从业人员数": 20,
        "正式党员数": 0,
        "预备党员数": 0,
        "出资人（负责人）": "张三",
        "出资人是否党员": "否",
        "党组织状态": "未建",
        "未建原因": "暂无党员",
    }
    row.update(cells)
    return row


def social(name: str, code: str, **cells) -> dict:
    """One 附表2 row as {header: value}: a district-level 社会团体 unless ``cells`` say otherwise."""
    row = {
        "社会组织名称": name,
        "统一社会信用代码": code,
        "所在区": DISTRICT,
        "登记层级": "区级及以下",
        "类别": "社会团体",
        "经营状态": "正常",
        "从业人员数": 5,
        "正式党员数": 0,
        "预备党员数": 0,
        "负责人": "李四",
        "负责人是否党员": "否",
        "党组织状态": "未建",
    }
    row.update(cells)
    return row


def build_xlsx(sheets: dict, path: Path | None = None) -> bytes:
    """An xlsx written by openpyxl: {sheet title: (headers, rows)}; a title line, then
    the header line (row 2), then one line per row (dicts by header, or plain lists)."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, (headers, rows) in sheets.items():
        ws = wb.create_sheet(title)
        ws.append([f"{title}  调查摸底表"])
        ws.append(list(headers))
        for row in rows:
            ws.append([row.get(h) for h in headers] if isinstance(row, dict) else list(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def ledger_xlsx(enterprises=(), socials=(), path: Path | None = None) -> bytes:
    """A ledger file with both sheets, as a user fills in the template."""
    return build_xlsx(
        {
            ENTERPRISE_SHEET: (ENTERPRISE_HEADERS, list(enterprises)),
            SOCIAL_SHEET: (SOCIAL_HEADERS, list(socials)),
        },
        path,
    )


def soffice(files: list[Path], fmt: str, outdir: Path, infilter: str = "") -> list[Path]:
    """Convert ``files`` with LibreOffice in one call (own profile, killed on timeout);
    ``infilter`` sets how it reads them ("CSV:44,34,76": comma, quote, UTF-8)."""
    if shutil.which("soffice") is None:
        # make test installs it (libreoffice-calc-nogui); a missing one is a broken set-up.
        pytest.fail(
            "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui"
        )
    profile = Path(tempfile.gettempdir()) / f"lo-{uuid.uuid4().hex}"
    cmd = [
        "soffice",
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        *([f"--infilter={infilter}"] if infilter else []),
        "--convert-to",
        fmt,
        "--outdir",
        str(outdir),
        *map(str, files),
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"soffice timed out: {cmd}")
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    ext = fmt.split(":")[0]
    produced = [Path(outdir) / f"{Path(f).stem}.{ext}" for f in files]
    missing = [p for p in produced if not p.exists()]
    assert not missing, f"soffice did not write {missing}: {out!r} {err!r}"
    return produced


# ---- an encrypted (password-protected) xlsx, by hand ---------------------------
#
# Excel and WPS save a password-protected xlsx as an OLE compound file (CFB) holding
# the streams "EncryptionInfo" and "EncryptedPackage". msoffcrypto-tool and olefile
# are not installed, and LibreOffice 7.4 here cannot be driven to write one headless
# (a Basic macro storing with EncryptionData hangs), so the compound file is written
# by hand: a version-3 header, one FAT sector, one directory sector and the two streams
# in regular 512-byte sectors (each padded to the 4096-byte mini-stream cutoff).
# `file` identifies the result as "CDFV2 Encrypted".

_FREE, _END, _FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def _dir_entry(name: str, kind: int, right=_FREE, child=_FREE, start=_END, size=0) -> bytes:
    raw = name.encode("utf-16-le") + b"\0\0"
    return (
        raw.ljust(64, b"\0")
        + struct.pack("<HBB3I", len(raw), kind, 1, _FREE, right, child)
        + b"\0" * 36  # CLSID, state bits, creation and modification times
        + struct.pack("<IQ", start, size)
    )


def encrypted_xlsx() -> bytes:
    info = struct.pack("<HHI", 4, 4, 0x40) + (  # agile encryption, version 4.4
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        b'<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption"/>'
    )
    package = struct.pack("<Q", 4096) + os.urandom(4096)
    fat, sectors, entries = [_FATSECT, _END], [], []
    for name, data in (("EncryptionInfo", info), ("EncryptedPackage", package)):
        data = data.ljust(max(4096, -(-len(data) // 512) * 512), b"\0")
        count, start = len(data) // 512, 2 + len(sectors)
        fat += [start + k + 1 for k in range(count - 1)] + [_END]
        sectors += [data[k * 512 : (k + 1) * 512] for k in range(count)]
        entries.append((name, start, len(data)))
    directory = _dir_entry("Root Entry", 5, child=1)
    for i, (name, start, size) in enumerate(entries, start=1):
        directory += _dir_entry(
            name, 2, right=i + 1 if i < len(entries) else _FREE, start=start, size=size
        )
    directory += b"\0" * (512 - len(directory))
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<9I", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", _FREE) * 108
    )
    fat_sector = b"".join(struct.pack("<I", x) for x in fat + [_FREE] * (128 - len(fat)))
    return header + fat_sector + directory + b"".join(sectors)


# ---- files LibreOffice wrote, made once per session (about 4 s of soffice) -------

SAMPLE_ENTERPRISES = [
    enterprise(
        "江岸甲制造有限公司",
        CODE_A,
        从业人员数=120,
        计划完成时间=None,
        党建工作指导员="刘指导",
    ),
    enterprise(
        "江岸乙商贸有限公司",
        CODE_B,
        **{"街道（乡镇）/园区": "后湖街道"},
        从业人员数=60,
        正式党员数=1,
        预备党员数=1,
        党组织状态="联合组建",
        党组织名称="后湖商贸联合党支部",
        未建原因="",
    ),
]
SAMPLE_SOCIALS = [
    social(
        "江岸区某律师事务所",
        CODE_S,
        登记层级="市级",
        类别="律师事务所",
        业务主管单位="市司法局",
        从业人员数=15,
        正式党员数=3,
        党组织状态="单独组建",
        党组织名称="某律师事务所党支部",
    ),
]


@pytest.fixture(scope="session")
def lo_files(tmp_path_factory):
    """LibreOffice's own xlsx of a sample ledger and of a formula file, and a real .xls."""
    from datetime import date

    src = tmp_path_factory.mktemp("lo-src")
    out = tmp_path_factory.mktemp("lo-out")
    socials = [dict(SAMPLE_SOCIALS[0], 党组织成立时间=date(2026, 9, 1))]
    enterprises = [dict(SAMPLE_ENTERPRISES[0], 计划完成时间=date(2026, 10, 31))]
    enterprises.append(SAMPLE_ENTERPRISES[1])
    sample = src / "sample.xlsx"
    ledger_xlsx(enterprises, socials, sample)
    formula = src / "formula.xlsx"
    ledger_xlsx([enterprise("江岸丙科技有限公司", CODE_C, 从业人员数="=10+5")], [], formula)
    sample_lo, formula_lo = soffice([sample, formula], "xlsx", out)
    (sample_xls,) = soffice([sample], "xls", out)
    return SimpleNamespace(
        sample=sample.read_bytes(),
        sample_lo=sample_lo.read_bytes(),
        formula=formula.read_bytes(),
        formula_lo=formula_lo.read_bytes(),
        xls=sample_xls.read_bytes(),
    )
