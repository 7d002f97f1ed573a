"""Real, small scanned consent forms for the tests: a page drawn with Pillow, saved as JPEG, PNG
or a PDF that embeds it as a scanner does (one JPEG image per page), finished with pypdf.

The upload check opens and decodes every scan, so tests cannot upload a few magic bytes any
more; these files are the smallest that look like a sheet of paper (an A4 page at 75 dpi).
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, PngImagePlugin
from pypdf import PdfReader, PdfWriter

# A4 at 75 dpi: the smallest scan the check accepts is 600 px across.
A4_75DPI = (620, 877)
A4_POINTS = (595.0, 842.0)

# A fictional position (a field outside Avesta) and a fictional device and owner.
GPS_LATITUDE = (60.0, 8.0, 42.25)
GPS_LONGITUDE = (16.0, 10.0, 7.5)
DEVICE = "Testtelefon 9"
OWNER = "Maja Fotografsson"


def page(size: tuple[int, int] = A4_75DPI, mode: str = "L") -> Image.Image:
    """A white sheet with lines of 'text' and a signature scribble."""
    image = Image.new(mode, size, "white")
    draw = ImageDraw.Draw(image)
    width, height = size
    for y in range(height // 10, height * 3 // 4, max(height // 36, 4)):
        draw.line((width // 10, y, width * 9 // 10, y), fill="black", width=2)
    draw.line(
        [
            (width // 8, height * 7 // 8),
            (width // 4, height * 5 // 6),
            (width // 3, height * 7 // 8),
        ],
        fill="black",
        width=3,
    )
    return image


def gps_exif() -> Image.Exif:
    """EXIF as a phone writes it: device, owner, and the GPS position (tag 0x8825)."""
    exif = Image.Exif()
    exif[0x010F] = "Testbolaget"  # Make
    exif[0x0110] = DEVICE  # Model
    exif[0x013B] = OWNER  # Artist
    exif[0x8825] = {1: "N", 2: GPS_LATITUDE, 3: "E", 4: GPS_LONGITUDE}
    return exif


def scan_jpeg(
    size: tuple[int, int] = A4_75DPI, *, exif: Image.Exif | None = None, orientation: int = 1
) -> bytes:
    if orientation != 1:
        exif = exif if exif is not None else Image.Exif()
        exif[0x0112] = orientation
    out = io.BytesIO()
    page(size).save(out, format="JPEG", quality=80, exif=exif if exif is not None else b"")
    return out.getvalue()


def scan_png(size: tuple[int, int] = A4_75DPI, *, text: dict[str, str] | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
        info.add_text(f"{key} (z)", value, zip=True)
    out = io.BytesIO()
    page(size).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def scan_pdf(
    pages: int = 1,
    *,
    size: tuple[int, int] = A4_75DPI,
    metadata: dict[str, str] | None = None,
    password: str | None = None,
    image_exif: Image.Exif | None = None,
) -> bytes:
    """A scanner's PDF: each page one JPEG image (with `image_exif` inside it if given), the
    page A4 in points at 75 dpi; `metadata` in the document information dictionary and as XMP."""
    sheets = [page(size) for _ in range(pages)]
    raw = io.BytesIO()
    sheets[0].save(
        raw,
        format="PDF",
        resolution=75.0,
        save_all=True,
        append_images=sheets[1:],
        exif=image_exif if image_exif is not None else b"",
    )
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(raw.getvalue())))
    if metadata:
        writer.add_metadata(metadata)
        fields = "".join(
            f"<pdf:{k.lstrip('/')}>{v}</pdf:{k.lstrip('/')}>" for k, v in metadata.items()
        )
        writer.xmp_metadata = (
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
            'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
            f'xmlns:pdf="http://ns.adobe.com/pdf/1.3/">{fields}</rdf:Description></rdf:RDF>'
            "</x:xmpmeta>"
        ).encode()
    if password is not None:
        writer.encrypt(password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
