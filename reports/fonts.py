"""The CJK faces a bulletin is set in, found through fontconfig, and checked before rendering.

GB/T 9704 asks for 小标宋 (发文机关标志, title), 黑体/楷体 (headings) and 仿宋 (body, numbers
included); the nearest free faces in Debian are below. FandolFang and FandolSong-Bold come
only inside texlive-lang-chinese: scripts/system-deps.sh takes these two files from its .deb.
UMing stays as the fallback for the few characters Fandol lacks (e.g. 硚 of 硚口区).

Speed: WeasyPrint subsets the large CFF-outline collections (Noto CJK .ttc) about ten times
slower (27 s against 3.5 s for a 9-page bulletin, measured here). The Fandol faces are CFF too
but small (10,000 glyphs each): the demo's 第7期 renders in 0.75 s with FandolFang as body
against 1.0 s with UMing (uming.ttc is 20 MB), measured here with the same HTML.
"""

import shutil
import subprocess
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Face:
    role: str  # what GB/T 9704 uses it for
    family: str  # the fontconfig family name used in the CSS
    package: str  # the Debian package that installs it


FACES = (
    Face("页码、补字（宋体）", "AR PL UMing CN", "fonts-arphic-uming"),
    Face("二级标题（楷体）", "AR PL UKai CN", "fonts-arphic-ukai"),
    Face("一级标题（黑体）", "WenQuanYi Micro Hei", "fonts-wqy-microhei"),
    Face("正文（仿宋）", "FandolFang", "texlive-lang-chinese"),
    Face("标题（宋体加粗）", "FandolSong", "texlive-lang-chinese"),
)
SONG, KAI, HEI, FANG, TITLE = (f.family for f in FACES)
FANDOL = "texlive-lang-chinese"  # only its two font files are taken, not the package


class FontsMissing(RuntimeError):
    """A face the bulletin needs is not installed; the message says what to install."""


@cache
def _fontconfig() -> dict[str, tuple[str, int, str]]:
    """Family name -> (file, index in the collection, character set), from fontconfig."""
    if shutil.which("fc-list") is None:
        return {}
    out = subprocess.run(
        ["fc-list", "--format", "%{family}\t%{file}\t%{index}\t%{charset}\n", ":lang=zh"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    found: dict[str, tuple[str, int, str]] = {}
    for line in out.splitlines():
        families, path, index, charset = line.split("\t")
        for family in families.split(","):
            found.setdefault(family, (path, int(index or 0), charset))
    return found


def _installed() -> dict[str, tuple[str, int]]:
    """Family name -> (file, index in the collection), from fontconfig."""
    return {family: (path, index) for family, (path, index, _) in _fontconfig().items()}


def check() -> dict[str, tuple[str, int]]:
    """The font file of every face; refused with the packages to install when one is missing."""
    installed = _installed()
    missing = [f for f in FACES if f.family not in installed]
    if missing:
        names = "、".join(f"{f.family}（{f.role}）" for f in missing)
        apt = " ".join(dict.fromkeys(f.package for f in missing if f.package != FANDOL))
        fandol = any(f.package == FANDOL for f in missing)
        raise FontsMissing(
            f"未安装通报所需的中文字体：{names}。请运行 scripts/system-deps.sh 安装"
            + (f"（或 apt-get install {apt}）" if apt else "")
            + (f"；Fandol 字体由它从 {FANDOL} 软件包中取出" if fandol else "")
            + "，否则中文会显示为方框。"
        )
    return {f.family: installed[f.family] for f in FACES}


class Coverage:
    """The code points a face has glyphs for, as ranges (fontconfig's charset of the face:
    what pango, which picks the face for each character, goes by)."""

    def __init__(self, charset: str) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for part in charset.split():
            first, _, last = part.partition("-")
            self.starts.append(int(first, 16))
            self.ends.append(int(last or first, 16))

    def __contains__(self, code: int) -> bool:
        i = bisect_right(self.starts, code) - 1
        return i >= 0 and code <= self.ends[i]


@cache
def _cmap(path: str, index: int) -> Coverage:
    # fontconfig has read the face already: no font file is opened here (fontTools' reading
    # of the five faces' cmaps took 47 MB at its peak, measured with bench/bulletin.py).
    charset = next(
        (c for p, i, c in _fontconfig().values() if (p, i) == (path, index)),
        "",
    )
    return Coverage(charset)


def missing_glyphs(text: str) -> list[str]:
    """Characters of ``text`` that none of the faces can draw (they would print as boxes)."""
    files = check()
    covered = [_cmap(path, index) for path, index in files.values()]
    return sorted(
        ch for ch in set(text) if not ch.isspace() and not any(ord(ch) in c for c in covered)
    )
