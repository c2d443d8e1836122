"""`backup restore --force` of a damaged or forged archive changes nothing.

The probe restored, over a populated instance: an archive whose database was 0 bytes (every
table wiped, then a failure), one with pages 2-40 of the SQLite file XOR-corrupted (a
database failing its integrity check, and a traceback), one with a gzip CRC error (a
"success" with a corrupted file restored), and one whose manifest lies about the counts
(noticed only after the data was replaced). Each archive here is built from a real backup
and damaged for real; each restore must exit non-zero with a Chinese message saying what is
wrong with the archive, and leave the live database (its counts, a known row) and the stored
files exactly as they were.
"""

import gzip
import hashlib
import io
import json
import tarfile
import zlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaign.board import services as board
from campaign.board.inputs import ClosureClaim
from campaign.board.models import BoardItem, Closure
from campaign.core.extensions import db
from campaign.ledger.models import Organization
from tests import documents
from tests.conftest import make_campaign, make_org, make_unit, make_user
from tests.timeutil import at

UNTOUCHED = "未作任何恢复，当前数据库和上传文件保持原样"


@pytest.fixture
def live(app, runner, tmp_path, built_once):
    """A populated instance (three organizations, a closure with its document in storage)
    and a good backup of it; the live instance then gains a fourth organization, so a
    restore that went through would be seen."""
    archive = tmp_path / "good.tar.gz"
    archive.write_bytes(
        built_once("tests.security.hostile_archives.live", lambda: _build(app, runner, tmp_path))
    )
    storage = Path(app.config["STORAGE_PATH"])
    before = _state(storage)
    db.session.remove()
    return archive, storage, before


def _build(app, runner, tmp_path) -> bytes:
    """The instance above; the backup's bytes."""
    with at(2026, 11, 20, 10, 0):
        campaign = make_campaign()
        unit = make_unit("jiangan", "江岸区")
        operator = make_user("jiangan_op", "operator", unit)
        for name in ("甲公司", "乙公司", "丙公司"):
            make_org(campaign, unit, name=name, employees=120)
        board.sync_items(db.session, campaign)
        item = db.session.scalars(select(BoardItem).order_by(BoardItem.id)).first()
        board.submit_closure(
            db.session,
            item,
            ClosureClaim.from_form(
                {
                    "method": "joint",
                    "joint_form": "区域联建",
                    "party_org_name": "中共甲公司联合支部",
                    "established_on": "2026-11-18",
                    "formal_members": "0",
                    "secretary": "张三",
                }
            ),
            ("批复.pdf", documents.pdf("甲公司批复")),
            operator,
            Path(app.config["STORAGE_PATH"]),
        )
        db.session.commit()
        archive = tmp_path / "built.tar.gz"
        result = runner.invoke(args=["backup", "create", "-o", str(archive)])
        assert result.exit_code == 0, result.output
        make_org(campaign, unit, name="丁公司", employees=10)
        db.session.commit()
    return archive.read_bytes()


def _state(storage: Path) -> dict:
    """What must not change: row counts, a known row, and every stored file's bytes."""
    orgs = db.session.scalar(select(func.count()).select_from(Organization))
    closure = db.session.scalar(select(Closure))
    files = {
        p.relative_to(storage).as_posix(): p.read_bytes()
        for p in sorted(storage.rglob("*"))
        if p.is_file()
    }
    state = {
        "organizations": orgs,
        "names": sorted(db.session.scalars(select(Organization.name))),
        "closure": (closure.party_org_name, closure.document_path, closure.document_sha256),
        "files": files,
    }
    db.session.remove()
    return state


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def _pack(members: dict[str, bytes], out: Path, *, extra: list[tarfile.TarInfo] = ()) -> Path:
    with tarfile.open(out, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return out


def _database(members: dict[str, bytes]) -> str:
    return next(n for n in members if n.startswith("database."))


def _manifest(members: dict[str, bytes]) -> dict:
    return json.loads(members["manifest.json"])


def _sign(members: dict[str, bytes], *names: str) -> None:
    """Make the manifest agree with the (damaged) members: a forger's archive, so that the
    deeper checks, not the hashes, have to find the damage."""
    manifest = _manifest(members)
    for name in names:
        manifest["files"][name] = {
            "sha256": hashlib.sha256(members[name]).hexdigest(),
            "size": len(members[name]),
        }
    members["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode()


def _evidence(members: dict[str, bytes]) -> str:
    return next(n for n in members if n.startswith("storage/closures/"))


def _restore(runner, archive: Path):
    result = runner.invoke(args=["backup", "restore", str(archive), "--force"])
    db.session.remove()
    return result


def _refused(result, *words: str) -> None:
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert UNTOUCHED in result.output, result.output
    for word in words:
        assert word in result.output, result.output


def _xor_pages(data: bytes, first: int, last: int, page: int = 4096) -> bytes:
    damaged = bytearray(data)
    for i in range((first - 1) * page, min(last * page, len(damaged))):
        damaged[i] ^= 0x5A
    return bytes(damaged)


@pytest.mark.parametrize("signed", [False, True], ids=["honest-manifest", "forged-manifest"])
def test_an_empty_database_in_the_archive_changes_nothing(live, runner, tmp_path, signed):
    archive, storage, before = live
    members = _members(archive)
    name = _database(members)
    members[name] = b""
    if signed:
        _sign(members, name)
    result = _restore(runner, _pack(members, tmp_path / "empty-db.tar.gz"))
    if signed:
        _refused(result, name, "0 字节")
    else:
        _refused(result, name, "SHA-256 与清单不符")
    assert _state(storage) == before


@pytest.mark.parametrize("signed", [False, True], ids=["honest-manifest", "forged-manifest"])
def test_a_database_with_pages_2_to_40_corrupted_changes_nothing(
    live, runner, tmp_path, backend, signed
):
    archive, storage, before = live
    members = _members(archive)
    name = _database(members)
    members[name] = _xor_pages(members[name], 2, 40)
    if signed:
        _sign(members, name)
    result = _restore(runner, _pack(members, tmp_path / "xor.tar.gz"))
    if not signed:
        _refused(result, name, "SHA-256 与清单不符")
    elif backend == "sqlite":
        _refused(result, "备份中的数据库已损坏")
    else:
        _refused(result, "备份中的数据库转储已损坏")
    assert _state(storage) == before


def test_a_gzip_stream_whose_crc_fails_changes_nothing(live, runner, tmp_path):
    """One byte of the evidence changed inside the compressed stream, the stream's CRC still
    that of the original: it inflates without complaint, and only the CRC at its end tells."""
    archive, storage, before = live
    raw = gzip.decompress(archive.read_bytes())
    evidence = _evidence(_members(archive))
    at_pdf = raw.index(b"%PDF-")
    damaged = raw[: at_pdf + 20] + bytes([raw[at_pdf + 20] ^ 0xFF]) + raw[at_pdf + 21 :]
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = deflate.compress(damaged) + deflate.flush()
    trailer = zlib.crc32(raw).to_bytes(4, "little") + (len(raw) & 0xFFFFFFFF).to_bytes(4, "little")
    forged = tmp_path / "crc.tar.gz"
    forged.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + body + trailer)
    assert evidence  # the member the flipped byte belongs to
    result = _restore(runner, forged)
    _refused(result, "备份文件已损坏", "CRC")
    assert _state(storage) == before


def test_a_flipped_byte_in_the_gzip_trailer_changes_nothing(live, runner, tmp_path):
    archive, storage, before = live
    data = bytearray(archive.read_bytes())
    data[-8] ^= 0x01  # the stored CRC-32 of the whole stream
    forged = tmp_path / "trailer.tar.gz"
    forged.write_bytes(bytes(data))
    _refused(_restore(runner, forged), "备份文件已损坏", "CRC")
    assert _state(storage) == before


def test_a_truncated_archive_changes_nothing(live, runner, tmp_path):
    archive, storage, before = live
    forged = tmp_path / "cut.tar.gz"
    forged.write_bytes(archive.read_bytes()[: archive.stat().st_size * 2 // 3])
    _refused(_restore(runner, forged), "备份文件已损坏")
    assert _state(storage) == before


def test_a_manifest_whose_counts_lie_is_caught_before_anything_is_replaced(live, runner, tmp_path):
    archive, storage, before = live
    members = _members(archive)
    manifest = _manifest(members)
    assert manifest["tables"]["organization"] == 3
    manifest["tables"]["organization"] = 4
    members["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode()
    result = _restore(runner, _pack(members, tmp_path / "counts.tar.gz"))
    _refused(result, "organization", "清单记 4 行", "3 行")
    assert _state(storage) == before


def test_a_stored_file_that_does_not_match_its_hash_changes_nothing(live, runner, tmp_path):
    archive, storage, before = live
    members = _members(archive)
    evidence = _evidence(members)
    members[evidence] = documents.pdf("另一份批复")  # a valid PDF, but not the one listed
    result = _restore(runner, _pack(members, tmp_path / "swapped.tar.gz"))
    _refused(result, evidence, "SHA-256 与清单不符")
    assert _state(storage) == before


@pytest.mark.parametrize("missing", ["database", "evidence", "manifest.json"])
def test_a_missing_member_changes_nothing(live, runner, tmp_path, missing):
    archive, storage, before = live
    members = _members(archive)
    name = {"database": _database(members), "evidence": _evidence(members)}.get(missing, missing)
    del members[name]
    result = _restore(runner, _pack(members, tmp_path / "missing.tar.gz"))
    if missing == "manifest.json":
        _refused(result, "不是攻坚备份文件", "manifest.json")
    else:
        _refused(result, "备份不完整", name)
    assert _state(storage) == before


@pytest.mark.parametrize(
    "member",
    ["../../escaped.txt", "storage/../../escaped.txt", "/tmp/escaped.txt", "storage/link"],
)
def test_a_member_reaching_outside_is_refused(live, runner, tmp_path, member):
    archive, storage, before = live
    members = _members(archive)
    info = tarfile.TarInfo(member)
    if member == "storage/link":
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    else:
        info.size = 1
    forged = tmp_path / "deep" / "er" / "traversal.tar.gz"
    forged.parent.mkdir(parents=True)
    result = _restore(runner, _pack(members, forged, extra=[info]))
    _refused(result, member)
    assert _state(storage) == before
    assert not list(tmp_path.rglob("escaped.txt"))
    assert not (storage / "link").exists()


def test_an_archive_of_the_first_format_is_refused_by_name(live, runner, tmp_path):
    archive, storage, before = live
    members = _members(archive)
    manifest = _manifest(members)
    manifest["format"] = 1
    del manifest["files"]
    members["manifest.json"] = json.dumps(manifest).encode()
    result = _restore(runner, _pack(members, tmp_path / "v1.tar.gz"))
    _refused(result, "备份格式 1")
    assert _state(storage) == before
