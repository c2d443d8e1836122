"""Uploaded files: type- and size-checked, named by content hash, kept under STORAGE_PATH.

Never under static/: files are served only through views that check permissions.
"""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from campaign.errors import ValidationFailed

DOCUMENTS = {".pdf", ".doc", ".docx", ".xls", ".xlsx", ".jpg", ".jpeg", ".png"}
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    name: str  # the name the user gave it (no folders)
    path: str
    sha256: str


def store_upload(
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
    """Check and keep one upload as ``root/folder/stem-<hash>.<ext>``; refuse with a Chinese message."""
    name = Path(name).name
    suffix = Path(name).suffix.lower()
    if suffix not in allowed:
        kinds = "、".join(sorted(allowed))
        raise ValidationFailed([(field, f"{label}《{name}》类型不允许（可用：{kinds}）")])
    if len(data) > max_bytes:
        raise ValidationFailed([(field, f"{label}《{name}》超过{max_bytes // 1024 // 1024} MB")])
    if not data:
        raise ValidationFailed([(field, f"{label}《{name}》是空文件")])
    path, digest = store_bytes(root / folder, stem, suffix, data)
    return StoredFile(name, str(path), digest)


def store_bytes(folder: Path, stem: str, suffix: str, data: bytes) -> tuple[Path, str]:
    """Keep ``data`` as ``folder/stem-<hash>.suffix``, written atomically (a temporary file,
    then a rename): a reader never sees half a file, and no writer overwrites another's."""
    digest = hashlib.sha256(data).hexdigest()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}-{digest[:16]}{suffix}"
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path, digest
