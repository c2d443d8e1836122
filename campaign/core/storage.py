"""Stored files: uploads checked by content, kept under STORAGE_PATH, served by one helper.

- ``store_upload`` is the one place an upload is checked (extension, size, and that the
  content is what the extension says: a PDF opens with pypdf, a picture with Pillow, a
  .docx/.xlsx is the right OOXML package, a .doc/.xls an OLE2 file) and kept.
- Rows keep the path relative to STORAGE_PATH (``resolve`` finds it), so an instance
  restored on another machine, with another STORAGE_PATH, still finds its evidence.
- A file is written before the transaction commits; if that transaction does not commit
  (a 409, a refusal after storing, any exception), the file it wrote is removed again
  (``track``). Every write creates a file of its own, never reuses one a committed row may
  hold, so removing it is always safe.
- ``send_stored`` serves a stored file: its type from its (checked) extension, with
  ``X-Content-Type-Options: nosniff``; a missing file is a Chinese 404, never a 500.

Never under static/: files are served only through views that check permissions.
"""

import hashlib
import io
import itertools
import mimetypes
import re
import secrets
import shutil
import time
import warnings
import zipfile
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from flask import Response, current_app, send_file
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from sqlalchemy import orm
from sqlalchemy.orm import SessionTransaction
from werkzeug.exceptions import NotFound

from campaign.core.db import Session, StoredFile, listen_once
from campaign.core.errors import ValidationFailed

DOCUMENTS = {".pdf", ".doc", ".docx", ".xls", ".xlsx", ".jpg", ".jpeg", ".png"}
MAX_BYTES = 20 * 1024 * 1024
# An Office package may unpack to this much at most (a 20 MB upload of text-heavy XML
# unpacks to well under it); more is a zip bomb, refused before anything is inflated.
MAX_UNPACKED = 100 * 1024 * 1024
MAX_MEMBERS = 10_000

# What each allowed extension must be, in the words of the refusal.
KINDS = {
    ".pdf": "PDF文件",
    ".jpg": "JPEG图片",
    ".jpeg": "JPEG图片",
    ".png": "PNG图片",
    ".docx": "Word文档",
    ".xlsx": "Excel工作簿",
    ".doc": "Word 97-2003文档",
    ".xls": "Excel 97-2003工作簿",
}
MIMETYPES = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
}
OLE2 = bytes.fromhex("D0CF11E0A1B11AE1")
# The main part's content type in [Content_Types].xml, per OOXML package kind.
OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": ".docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": ".xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": ".xlsx",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": "macro",
    "application/vnd.ms-word.document.macroEnabled.main+xml": "macro",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
}
DAMAGED = "文件已损坏或不完整，无法打开"
MISSING = "文件不存在或已被移除（存储目录中找不到该文件）；如需找回，请联系管理员从备份恢复。"
_WRITTEN = "storage.written"  # session.info key: files this transaction created


class NotAsNamed(Exception):
    """The content is not what the extension says; the message says what it is."""


# ---- what a file really is ------------------------------------------------------------


def looks_like(data: bytes) -> str:
    """What ``data`` is, in a few Chinese words, from its first bytes (for refusals)."""
    head = data[:4096]
    if head.startswith(b"MZ"):
        return "Windows可执行程序"
    if head.startswith(b"\x7fELF"):
        return "Linux可执行程序"
    if b"%PDF-" in head[:1024]:
        return "PDF文件"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG图片"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG图片"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF图片"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP图片"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF图片"
    if head.startswith(OLE2):
        return "Word/Excel 97-2003文档"
    if head.startswith(b"PK\x03\x04"):
        kind = _ooxml_kind(data)
        return {".docx": "Word文档", ".xlsx": "Excel工作簿", "pptx": "PowerPoint演示文稿"}.get(
            kind or "", "ZIP压缩包"
        )
    if head.startswith((b"Rar!", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b")):
        return "压缩包"
    text = _text(head)
    if text is None:
        return "无法识别的数据"
    lowered = text.lstrip().lower()
    if "<svg" in lowered:
        return "SVG矢量图"
    if lowered.startswith(("<!doctype html", "<html", "<head", "<body", "<script")) or (
        "<html" in lowered or "<script" in lowered
    ):
        return "网页HTML"
    if lowered.startswith("<?xml"):
        return "XML文本"
    return "纯文本"


def _text(head: bytes) -> str | None:
    """``head`` as text if it is text (UTF-8, UTF-16 with its BOM, or GBK; no control
    characters), else None."""
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    for encoding in ("utf-16",) if utf16 else ("utf-8-sig", "gb18030"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError:
            # The sample may cut a character in two: try again without its last bytes.
            try:
                text = head[:-3].decode(encoding)
            except UnicodeDecodeError:
                continue
        if text and all(c.isprintable() or c in "\r\n\t\f" for c in text):
            return text
    return None


def _ooxml_kind(data: bytes) -> str | None:
    """The OOXML package kind named by [Content_Types].xml (".docx", ".xlsx", ...), or None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            return _main_part(package)[0]
    except (zipfile.BadZipFile, NotAsNamed, KeyError, OSError, ValueError, EOFError, SyntaxError):
        # (ElementTree's ParseError is a SyntaxError)
        return None


def _main_part(package: zipfile.ZipFile) -> tuple[str | None, str]:
    """(kind, part name) of the package's main part, read from [Content_Types].xml."""
    info = package.getinfo("[Content_Types].xml")
    if info.file_size > 1024 * 1024:
        raise NotAsNamed(DAMAGED)
    root = ElementTree.fromstring(package.read(info))
    for override in root:
        kind = OOXML_MAIN.get(override.get("ContentType", ""))
        if kind:
            return kind, override.get("PartName", "").lstrip("/")
    return None, ""


def _check_pdf(data: bytes) -> None:
    if b"%PDF-" not in data[:1024]:
        raise NotAsNamed(f"内容是{looks_like(data)}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise NotAsNamed("已加密，无法打开；请去除打开密码后上传")
            pages = reader.pages
            if len(pages) == 0:
                raise NotAsNamed("没有任何页面")
            for page in pages:
                page.mediabox  # noqa: B018 (reading each page's tree is the check)
    except NotAsNamed:
        raise
    except Exception as e:  # pypdf raises many kinds on a damaged file
        raise NotAsNamed(DAMAGED) from e


def _check_image(data: bytes, expected: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data))
            if picture.format != expected:
                raise NotAsNamed(f"内容是{looks_like(data)}")
            if expected == "JPEG":
                # Decoding reads every byte (a truncated file fails); at 1/8 scale, cheaply.
                picture.draft("RGB", (max(1, picture.width // 8), max(1, picture.height // 8)))
                picture.load()
            else:
                picture.verify()  # every chunk's CRC, through to the end
    except NotAsNamed:
        raise
    except UnidentifiedImageError as e:
        raise NotAsNamed(f"内容是{looks_like(data)}") from e
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise NotAsNamed("图片像素过多（超过约9000万像素），疑似恶意文件") from e
    except Exception as e:  # Pillow raises OSError, SyntaxError, ValueError... on bad data
        raise NotAsNamed(DAMAGED) from e


def _check_ooxml(data: bytes, suffix: str) -> None:
    if not data.startswith(b"PK\x03\x04"):
        raise NotAsNamed(f"内容是{looks_like(data)}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            members = package.infolist()
            if len(members) > MAX_MEMBERS:
                raise NotAsNamed(f"压缩包内文件超过{MAX_MEMBERS}个，疑似恶意文件")
            if sum(m.file_size for m in members) > MAX_UNPACKED:
                raise NotAsNamed(f"解压后超过{MAX_UNPACKED // 1024 // 1024} MB，疑似压缩炸弹")
            kind, main = _main_part(package)
            if kind != suffix:
                raise NotAsNamed(f"内容是{looks_like(data)}")
            package.getinfo(main)
            # Every member inflates to its declared size and CRC (bounded by the sum above).
            if package.testzip() is not None:
                raise NotAsNamed(DAMAGED)
    except NotAsNamed:
        raise
    except Exception as e:  # BadZipFile, KeyError (no such part), ParseError, zlib errors
        raise NotAsNamed(DAMAGED) from e


def _check_ole2(data: bytes) -> None:
    if not data.startswith(OLE2):
        raise NotAsNamed(f"内容是{looks_like(data)}")


def check_content(suffix: str, data: bytes) -> None:
    """Raise NotAsNamed unless ``data`` is a sound file of the kind ``suffix`` names."""
    if suffix == ".pdf":
        _check_pdf(data)
    elif suffix in (".jpg", ".jpeg"):
        _check_image(data, "JPEG")
    elif suffix == ".png":
        _check_image(data, "PNG")
    elif suffix in (".docx", ".xlsx"):
        _check_ooxml(data, suffix)
    elif suffix in (".doc", ".xls"):
        _check_ole2(data)
    else:
        raise NotAsNamed("不支持的类型")


# ---- keeping a file ---------------------------------------------------------------------


def store_upload(
    session: Session,
    root: Path,
    folder: str,
    stem: str,
    name: str,
    data: bytes,
    *,
    field: str,
    label: str,
    allowed: set[str] = DOCUMENTS,
    max_bytes: int = MAX_BYTES,
) -> StoredFile:
    """Check one upload and keep it as ``root/folder/stem-<hash>.<ext>`` for this transaction;
    refuse it with a Chinese message naming the file and what is wrong with it."""
    name = Path(name).name
    suffix = Path(name).suffix.lower()
    if suffix not in allowed:
        kinds = "、".join(sorted(allowed))
        raise ValidationFailed([(field, f"{label}《{name}》类型不允许（可用：{kinds}）")])
    if len(data) > max_bytes:
        raise ValidationFailed([(field, f"{label}《{name}》超过{max_bytes // 1024 // 1024} MB")])
    if not data:
        raise ValidationFailed([(field, f"{label}《{name}》是空文件")])
    try:
        check_content(suffix, data)
    except NotAsNamed as e:
        raise ValidationFailed(
            [(field, f"{label}《{name}》不是有效的{KINDS[suffix]}（{e}）")]
        ) from e
    path, digest = keep(session, root, folder, stem, suffix, data)
    return StoredFile(name, path, digest)


def keep(
    session: Session, root: Path, folder: str, stem: str, suffix: str, data: bytes
) -> tuple[str, str]:
    """Write ``data`` as a new file ``root/folder/stem-<hash>.suffix`` (``-2``, ``-3``... when
    that name is taken) and return (its path relative to ``root``, its SHA-256).

    The file is this transaction's own: created exclusively, so no other row holds it, and
    removed again unless the transaction commits. Nobody reads it before then, so it is
    written in place."""
    digest = hashlib.sha256(data).hexdigest()
    target = root / folder
    target.mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        path = target / f"{stem}-{digest[:16]}{'' if n == 1 else f'-{n}'}{suffix}"
        try:
            out = open(path, "xb")  # noqa: SIM115 (closed below; removed if the write fails)
        except FileExistsError:
            continue
        adopt(session, path)
        with out:
            out.write(data)
        return path.relative_to(root).as_posix(), digest
    raise AssertionError("unreachable")


def adopt(session: Session, path: Path) -> None:
    """Count ``path``, a new file this transaction wrote, as its own: removed unless it commits."""
    session.info.setdefault(_WRITTEN, []).append(path)


def track(target: Session) -> None:
    """Remove the files a transaction wrote unless it commits (on ``target``: a Session,
    sessionmaker or scoped_session). Idempotent: every app a process creates shares
    ``db.session``."""
    listen_once(target, (("after_commit", _kept), ("after_transaction_end", _discard)))


def _kept(session: orm.Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's release commits nothing yet
        session.info.pop(_WRITTEN, None)


def _discard(session: orm.Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without a commit (rolled back, or closed on an
    # exception): what it wrote is no row's file.
    if transaction.parent is not None:
        return
    for path in session.info.pop(_WRITTEN, []):
        path.unlink(missing_ok=True)


# ---- finding and serving a stored file ----------------------------------------------


def resolve(path: str, root: Path | str | None = None) -> Path:
    """Where a stored path is on this machine: a relative one under ``root`` (STORAGE_PATH by
    default); an absolute one (kept outside the storage root before paths were relative) as
    it is. A relative path that climbs out of the root resolves nowhere."""
    stored = PurePosixPath(path)
    if stored.is_absolute() or Path(path).is_absolute():
        return Path(path)
    if ".." in stored.parts or not path:
        return Path("/nonexistent") / "outside-storage"
    base = Path(root if root is not None else current_app.config["STORAGE_PATH"])
    return base.joinpath(*stored.parts)


class StoredFileMissing(NotFound):
    """A row names a file that is not in storage: 404 with a Chinese page (or JSON)."""

    description = MISSING
    template = "errors/missing_file.html"

    def __init__(self) -> None:
        super().__init__()
        self.data = {"message": MISSING}  # flask-smorest's JSON message for the API


# What a file shown in the browser (``inline``) must really be, by its extension: its first
# bytes are read again before it is shown, and anything else is sent as a download.
INLINE_KINDS = {suffix: KINDS[suffix] for suffix in (".pdf", ".png", ".jpg", ".jpeg")}
# A document shown in the browser runs nothing: no script, only the browser's own PDF viewer
# (an <embed> of the document itself, which object-src 'none' would refuse) and the image.
INLINE_POLICY = (
    "default-src 'none'; img-src 'self'; object-src 'self'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'"
)


def _shows_as_named(file: Path) -> bool:
    """Whether ``file`` is what its extension says among the kinds shown inline."""
    kind = INLINE_KINDS.get(file.suffix.lower())
    if kind is None:
        return False
    with open(file, "rb") as f:
        return looks_like(f.read(4096)) == kind


def send_stored(path: str, download_name: str, *, inline: bool = False) -> Response:
    """The response serving a stored file: typed by its extension (checked at upload),
    ``nosniff`` so no browser second-guesses it, as a download unless ``inline`` (a PDF or an
    image whose content is checked again: anything else is still a download)."""
    file = resolve(path) if path else None
    if file is None or not file.is_file():
        raise StoredFileMissing()
    suffix = file.suffix.lower()
    mimetype = (
        MIMETYPES.get(suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    )
    inline = inline and _shows_as_named(file)
    response = send_file(
        file, mimetype=mimetype, as_attachment=not inline, download_name=download_name
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    if inline:
        response.headers["Content-Security-Policy"] = INLINE_POLICY
    return response


# ---- an upload held across a refused form ----------------------------------------------------

_HELD_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


def _held_folder(root: Path, owner: str, token: str) -> Path:
    return root / "held" / f"{owner}-{token}"


# How long a held upload waits for its form to be sent again.
HELD_FOR = 24 * 3600


def _sweep_held(root: Path) -> None:
    """Forget the held uploads of forms left unsent for longer than HELD_FOR."""
    folder = root / "held"
    if not folder.is_dir():
        return
    limit = time.time() - HELD_FOR
    for held_upload in folder.iterdir():
        try:
            if held_upload.stat().st_mtime < limit:
                shutil.rmtree(held_upload, ignore_errors=True)
        except OSError:
            continue


def hold(root: Path, owner: str, name: str, data: bytes) -> str:
    """Keep the upload of a form that was refused for its other fields, so the user need not
    choose (or photograph) it again; the token the form sends back to find it. ``owner`` says
    who it is for and where (``held`` finds it only for the same owner). Not a record: it
    becomes one only through ``store_upload`` when the form is accepted."""
    _sweep_held(root)
    token = secrets.token_urlsafe(16)
    folder = _held_folder(root, owner, token)
    folder.mkdir(parents=True)
    (folder / "file").write_bytes(data)
    (folder / "name").write_text(Path(name).name, encoding="utf-8")
    return token


def held(root: Path, owner: str, token: str) -> tuple[str, bytes] | None:
    """The name and bytes of an upload ``hold`` kept for ``owner`` (None: no such token)."""
    if not _HELD_TOKEN.fullmatch(token or ""):
        return None
    folder = _held_folder(root, owner, token)
    try:
        return (folder / "name").read_text(encoding="utf-8"), (folder / "file").read_bytes()
    except OSError:
        return None


def release(root: Path, owner: str, token: str) -> None:
    """Forget a held upload (its form was accepted)."""
    if _HELD_TOKEN.fullmatch(token or ""):
        shutil.rmtree(_held_folder(root, owner, token), ignore_errors=True)
