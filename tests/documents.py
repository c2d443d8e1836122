"""Real documents for uploads: each opens with the library a user's own software would use.

Uploads are checked by content (campaign.core.storage), so a test that stores evidence gives
a real PDF, image or Office file; ``text`` makes the bytes (and so the stored name) differ.
"""

import io
import zipfile

from openpyxl import Workbook
from PIL import Image
from pypdf import PdfWriter

OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)


def pdf(text: str = "批复") -> bytes:
    """A one-page PDF (A4, blank), its title ``text``."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image(kind: str = "PNG", text: str = "") -> bytes:
    """A small picture as PNG or JPEG; ``text`` shifts its colour so the bytes differ."""
    shade = sum(text.encode()) % 256
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, shade, 40)).save(out, kind)
    return out.getvalue()


def docx(body: bytes = b"<w:document/>", content_types: str = DOCX_TYPES) -> bytes:
    """A minimal Word package: [Content_Types].xml naming word/document.xml as its main part."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", content_types)
        package.writestr("word/document.xml", body)
    return out.getvalue()


def xlsx(value: str = "台账") -> bytes:
    """A workbook written by openpyxl, as Excel would read it."""
    book = Workbook()
    book.active["A1"] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ole2() -> bytes:
    """The start of a Word 97-2003 / Excel 97-2003 file (the OLE2 compound-file header)."""
    return OLE2_MAGIC + bytes(504)
