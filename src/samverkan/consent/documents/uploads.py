"""Checks on a scanned consent form before anything is stored, and the cleaning of what is.

The type is decided from the content, never from the browser's claim; the file's name must
agree with it, so a PDF renamed to .png (or anything renamed to .pdf) is refused. Passing the
first bytes is not enough: the file must open as what it claims to be and look like a paper
form (page count, page size, image dimensions), so that a consent never rests on a file that
shows nothing.

What is stored is not the upload itself but a rewrite of it without metadata: a phone photo
carries the place it was taken (EXIF GPS), the device and often the owner's name, and a PDF
its author and the software that made it. None of that is evidence of the signature, and all
of it would reach every agency that may open the scan.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import formats
from django.utils.translation import gettext as _
from PIL import Image, ImageFile, ImageOps
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, StreamObject

# Leading bytes of each accepted format, and the names each may carry.
_FORMATS: tuple[tuple[bytes, str, frozenset[str]], ...] = (
    (b"%PDF-", "application/pdf", frozenset({".pdf"})),
    (b"\xff\xd8\xff", "image/jpeg", frozenset({".jpg", ".jpeg"})),
    (b"\x89PNG\r\n\x1a\n", "image/png", frozenset({".png"})),
)

EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}

# A consent form is one or two sheets, with the information leaflet perhaps four to six pages
# more, printed on both sides. Twenty pages leave room for all of that; a longer file is not a
# consent form, and every page is parsed and rewritten while staff wait.
MAX_PDF_PAGES = 20

# Page sizes in PDF points (1/72 inch). A6 is 298 × 420 and A3 842 × 1191; US Letter and Legal
# fall between. The margins allow for a scanner that crops a little inside the sheet or adds a
# border around it. A page is accepted in either orientation.
PDF_SHORT_SIDE = (250.0, 900.0)
PDF_LONG_SIDE = (380.0, 1300.0)

# Image dimensions in pixels. 600 px across the short side is an A4 sheet at about 72 dpi (or an
# A6 card at 150 dpi): below that a handwritten signature and date are no longer legible.
# 12,000 px along the long side is an A3 sheet at 600 dpi, or a 108-megapixel phone photo.
IMAGE_MIN_SHORT_SIDE = 600
IMAGE_MAX_LONG_SIDE = 12000
# Decoding needs width × height × 3 bytes and turning the page upright as much again, so the
# pixel count is capped before anything is decoded (the decompression-bomb guard: a file of a
# few kilobytes can claim any size). 50 million pixels covers an A4 sheet at 600 dpi (35 Mpx)
# and a 50-megapixel phone photo, at about 150 MB decoded. Pillow's own MAX_IMAGE_PIXELS guard
# stays in place behind this one, and is not changed for the rest of the process.
IMAGE_MAX_PIXELS = 50_000_000
# Paper is 1:1.41 (A series) to 1:1.65 (US Legal); a photo of it is framed 4:3, 3:2 or 16:9.
# Anything longer than 1:2 is a strip or a panorama, not a page.
MAX_ASPECT_RATIO = 2.0
# High enough that small handwriting survives re-encoding without visible artefacts.
JPEG_QUALITY = 90

# The image modes each format is written in as they are; anything else is converted.
_JPEG_MODES = frozenset({"L", "RGB"})
_PNG_MODES = frozenset({"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"})


@dataclass(frozen=True)
class CheckedFile:
    """The file to store: cleaned of metadata, with the hash of exactly these bytes."""

    content: bytes
    content_type: str
    sha256: str


def _refuse(message: str) -> ValidationError:
    return ValidationError({"evidence": [message]})


def check_evidence(upload: UploadedFile) -> CheckedFile:
    limit: int = settings.CONSENT_EVIDENCE_MAX_BYTES
    if upload.size is None or upload.size == 0:
        raise _refuse(_("The file is empty."))
    if upload.size > limit:
        raise _refuse(
            _("The file is %(size)s MB; the largest accepted is %(limit)s MB.")
            % {
                "size": formats.number_format(upload.size / 1048576, 1),
                "limit": limit // 1048576,
            }
        )
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise _refuse(_("The file is larger than accepted."))
    name = (upload.name or "").lower()
    extension = name[name.rfind(".") :] if "." in name else ""
    for magic, content_type, extensions in _FORMATS:
        if content.startswith(magic):
            if extension not in extensions:
                raise _refuse(
                    _(
                        "The file's content is %(type)s but its name says otherwise. "
                        "Upload the scan under its real type."
                    )
                    % {"type": EXTENSIONS[content_type].lstrip(".").upper()}
                )
            if content_type == "application/pdf":
                cleaned = _clean_pdf(content)
            else:
                cleaned = _clean_image(content, content_type)
            return CheckedFile(
                content=cleaned,
                content_type=content_type,
                sha256=hashlib.sha256(cleaned).hexdigest(),
            )
    raise _refuse(_("Only PDF, JPEG or PNG files are accepted, and this is none of them."))


# --- PDF -------------------------------------------------------------------------------------


def _clean_pdf(content: bytes) -> bytes:
    unreadable = _refuse(_("The PDF cannot be read. Scan the form again and upload the new file."))
    # Whatever the parser raises on hostile input (it has many exception types, and some
    # malformed files end in plain Python errors), the answer is the same: unreadable.
    try:
        reader = PdfReader(io.BytesIO(content))
        encrypted = reader.is_encrypted
    except Exception as error:
        raise unreadable from error
    if encrypted:
        raise _refuse(
            _("The PDF is protected with a password. Upload a copy without the protection.")
        )
    try:
        count = len(reader.pages)
        if count == 0:
            raise _refuse(_("The PDF has no pages."))
        if count > MAX_PDF_PAGES:
            raise _refuse(
                _("The PDF has %(count)s pages; a consent form has at most %(limit)s.")
                % {"count": count, "limit": MAX_PDF_PAGES}
            )
        drawn = False
        writer = PdfWriter()
        for number, page in enumerate(reader.pages, start=1):
            if not _plausible_page(page.cropbox.width, page.cropbox.height, page.user_unit):
                raise _refuse(
                    _(
                        "Page %(page)s of the PDF is not the size of a paper form "
                        "(between A6 and A3)."
                    )
                    % {"page": number}
                )
            contents = page.get_contents()
            drawn = drawn or (contents is not None and bool(contents.get_data().strip()))
            writer.add_page(page)
        if not drawn:
            raise _refuse(_("The PDF is blank: none of its pages shows anything."))
        _strip_pdf_metadata(writer)
        out = io.BytesIO()
        writer.write(out)
    except ValidationError:
        raise
    except Exception as error:
        raise unreadable from error
    return out.getvalue()


def _plausible_page(width: float, height: float, unit: float) -> bool:
    short, long = sorted((abs(float(width)) * unit, abs(float(height)) * unit))
    return (
        PDF_SHORT_SIDE[0] <= short <= PDF_SHORT_SIDE[1]
        and PDF_LONG_SIDE[0] <= long <= PDF_LONG_SIDE[1]
        and long <= short * MAX_ASPECT_RATIO
    )


def _strip_pdf_metadata(writer: PdfWriter) -> None:
    """Drop the document information dictionary (author, title, producer, dates), XMP streams
    on the pages and their images, and the EXIF or XMP of JPEG images embedded as they are.

    The writer starts a new catalogue, so the source's catalogue-level XMP is already gone.
    """
    writer.metadata = None
    for page in writer.pages:
        for key in ("/Metadata", "/PieceInfo"):
            page.pop(key, None)
        for xobject in _xobjects(page):
            xobject.pop("/Metadata", None)
            xobject.pop("/PieceInfo", None)
            if xobject.get("/Subtype") == "/Image" and xobject.get("/Filter") in (
                "/DCTDecode",
                ["/DCTDecode"],
            ):
                # A JPEG inside a PDF is the file's own bytes, APP1 (EXIF, XMP) and all: a
                # photo turned into a PDF by a converter keeps its GPS position there.
                # StreamObject.set_data replaces the bytes as they are (the encoded stream's
                # own set_data only accepts Flate).
                StreamObject.set_data(xobject, _strip_jpeg_segments(xobject.get_data()))


def _xobjects(owner: DictionaryObject, depth: int = 0) -> Iterator[StreamObject]:
    """The XObjects a page or form draws, through nested forms (bounded: a form may name
    itself)."""
    if depth > 8:
        return
    resources = owner.get("/Resources")
    resources = resources.get_object() if resources is not None else None
    if not isinstance(resources, DictionaryObject):
        return
    xobjects = resources.get("/XObject")
    xobjects = xobjects.get_object() if xobjects is not None else None
    if not isinstance(xobjects, DictionaryObject):
        return
    for reference in xobjects.values():
        xobject = reference.get_object()
        if isinstance(xobject, StreamObject):
            yield xobject
            if xobject.get("/Subtype") == "/Form":
                yield from _xobjects(xobject, depth + 1)


# JPEG segments kept before the image data: the quantisation and Huffman tables, the frame
# header, restart interval, JFIF (APP0), an ICC colour profile (APP2 "ICC_PROFILE") and Adobe's
# colour transform flag (APP14), which decoders need. Every other APPn segment (EXIF and XMP in
# APP1, a multi-picture index in APP2, IPTC in APP13, maker notes) and comments are dropped.
def _keep_jpeg_segment(marker: int, segment: bytes) -> bool:
    if marker == 0xFE:
        return False
    if not 0xE0 <= marker <= 0xEF:
        return True
    return marker in (0xE0, 0xEE) or (marker == 0xE2 and segment[4:16] == b"ICC_PROFILE\0")


def _strip_jpeg_segments(data: bytes) -> bytes:
    """The same JPEG without metadata segments, image data untouched (no re-encoding)."""
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG stream")
    out = bytearray(b"\xff\xd8")
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise ValueError("bad JPEG marker")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        segment = data[position : position + 2 + length]
        if length < 2 or len(segment) != 2 + length:
            raise ValueError("truncated JPEG segment")
        if marker == 0xDA:
            # Start of scan: the rest is image data. It ends at the first EOI (an FF in the data
            # is always stuffed or a restart marker); whatever follows EOI, such as the second
            # picture of a phone's multi-picture file with its own EXIF, is dropped.
            end = data.find(b"\xff\xd9", position + 2 + length)
            if end == -1:
                raise ValueError("JPEG without end of image")
            out += data[position : end + 2]
            return bytes(out)
        if _keep_jpeg_segment(marker, segment):
            out += segment
        position += 2 + length
    raise ValueError("JPEG without image data")


# --- Images ----------------------------------------------------------------------------------


_STRICT_DECODING = threading.Lock()


@contextmanager
def _strict_decoding() -> Iterator[None]:
    """Pillow refuses truncated images only while its process-wide ``LOAD_TRUNCATED_IMAGES`` is
    off, and WeasyPrint turns it on when it is imported (for the PDFs we render). A scan must
    decode completely, so the flag is off while one is checked."""
    with _STRICT_DECODING:
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before


def _clean_image(content: bytes, content_type: str) -> bytes:
    with _strict_decoding():
        return _decode_and_clean(content, content_type)


def _decode_and_clean(content: bytes, content_type: str) -> bytes:
    unreadable = _refuse(
        _(
            "The image cannot be read: the file is damaged or incomplete. "
            "Take the photo or scan the form again."
        )
    )
    # A phone's JPEG with a depth map or a second picture opens as MPO; only its first picture is
    # kept. As with PDFs, anything the decoder raises means unreadable, Pillow's own
    # DecompressionBombError (behind the pixel cap below) included.
    expected = ("JPEG", "MPO") if content_type == "image/jpeg" else ("PNG",)
    try:
        # Opening reads the header only; only JPEG and PNG decoders are tried.
        image = Image.open(io.BytesIO(content), formats=["JPEG", "PNG"])
        width, height = image.size
        if image.format == "PNG":
            # Decoding a PNG does not check its chunks' checksums; verify() does, and leaves
            # the image unusable, so it is opened again.
            image.verify()
            image = Image.open(io.BytesIO(content), formats=["PNG"])
    except Exception as error:
        raise unreadable from error
    if image.format not in expected:
        raise unreadable
    _check_dimensions(width, height)
    try:
        image.load()  # decodes every pixel: a truncated or damaged file fails here
        upright = ImageOps.exif_transpose(image)
        return _encode_without_metadata(upright, content_type)
    except Exception as error:
        raise unreadable from error


def _check_dimensions(width: int, height: int) -> None:
    short, long = sorted((width, height))
    values = {"width": width, "height": height}
    if short < IMAGE_MIN_SHORT_SIDE:
        raise _refuse(
            _(
                "The image is %(width)s × %(height)s pixels, too small for a signature to be "
                "legible: it needs at least %(min)s pixels on the short side."
            )
            % {**values, "min": IMAGE_MIN_SHORT_SIDE}
        )
    if long > IMAGE_MAX_LONG_SIDE or width * height > IMAGE_MAX_PIXELS:
        raise _refuse(
            _(
                "The image is %(width)s × %(height)s pixels, more than a scanned page needs: at "
                "most %(max)s pixels on the long side and %(megapixels)s million in all. Scan "
                "at a lower resolution."
            )
            % {**values, "max": IMAGE_MAX_LONG_SIDE, "megapixels": IMAGE_MAX_PIXELS // 1000000}
        )
    if long > short * MAX_ASPECT_RATIO:
        raise _refuse(
            _(
                "The image is %(width)s × %(height)s pixels, too long and narrow to be a page "
                "of a form."
            )
            % values
        )


def _encode_without_metadata(image: Image.Image, content_type: str) -> bytes:
    """Write the pixels anew. Pillow carries some of an image's `info` into what it saves (a
    JPEG comment, a PNG's ICC profile), so it is emptied first, except for PNG transparency,
    which is part of the picture. EXIF, XMP, IPTC, ICC and text chunks are not written."""
    # The resolution is kept: it gives the sheet its printed size and says nothing of anyone.
    options: dict[str, object] = {"optimize": True}
    dpi = image.info.get("dpi")
    if isinstance(dpi, tuple) and len(dpi) == 2 and all(0 < float(d) < 10000 for d in dpi):
        options["dpi"] = dpi
    out = io.BytesIO()
    if content_type == "image/jpeg":
        if image.mode not in _JPEG_MODES:
            image = image.convert("RGB")
        image.info = {}
        image.save(out, format="JPEG", quality=JPEG_QUALITY, **options)
    else:
        if image.mode not in _PNG_MODES:
            image = image.convert("RGBA")
        image.info = {k: v for k, v in image.info.items() if k == "transparency"}
        image.save(out, format="PNG", **options)
    return out.getvalue()
