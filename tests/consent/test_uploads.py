"""Scanned consent forms (issue 17, points 2 and 4): a scan must be a readable PDF or image that
looks like a paper form, and what is stored (and served) carries no metadata: no EXIF position
or device, no PNG text, no PDF author or title.

Each stored file is read back through the download view, the way anyone who opens it gets it.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image, ImageFile, PngImagePlugin
from pypdf import PdfReader

from samverkan.consent.documents.uploads import IMAGE_MAX_PIXELS, MAX_PDF_PAGES
from samverkan.consent.models import (
    ConsentSignature,
    EvidenceFile,
    RequiredSigner,
    SignatureMethod,
)
from samverkan.consent.services import signature_record
from tests import scans

# What the tester uploaded: the PDF magic and 55 bytes of nothing, 60 bytes in all.
JUNK_PDF = b"%PDF-" + bytes(range(7, 62))


def _first_signer(consent) -> RequiredSigner:
    return (
        RequiredSigner.objects.filter(consent=consent).select_related("consent").order_by("pk")[0]
    )


def _record(personas, consent, name: str, content: bytes) -> ConsentSignature:
    return signature_record(
        actor=personas.practitioner,
        signer=_first_signer(consent),
        method=SignatureMethod.PAPER,
        evidence=SimpleUploadedFile(name, content),
    )


def _refused(personas, consent, name: str, content: bytes) -> str:
    with pytest.raises(ValidationError) as exc:
        _record(personas, consent, name, content)
    assert not EvidenceFile.objects.exists()
    assert not ConsentSignature.objects.exists()
    return " ".join(exc.value.message_dict["evidence"])


def _served(client_for, personas, signature: ConsentSignature) -> bytes:
    """The scan as the download view serves it, checked against what was recorded of it."""
    signer = signature.signer
    response = client_for(personas.coordinator).get(
        reverse("consent:evidence", args=[signer.consent_id, signer.pk])
    )
    assert response.status_code == 200
    assert signature.evidence_id is not None
    stored = EvidenceFile.objects.get(pk=signature.evidence_id)
    # The recorded hash and size are of the bytes stored and served, not of the upload.
    assert stored.sha256 == hashlib.sha256(response.content).hexdigest()
    assert stored.size == len(response.content)
    return response.content


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG header that claims a size, with a few bytes of image data: a decompression bomb's
    shape, refused before anything is decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


# --- Refused --------------------------------------------------------------------------------


def test_a_junk_pdf_with_the_right_first_bytes_is_refused(personas, pending_consent):
    assert len(JUNK_PDF) == 60
    assert "The PDF cannot be read" in _refused(personas, pending_consent, "scan.pdf", JUNK_PDF)


def test_the_refusal_is_in_swedish_for_a_swedish_user(personas, pending_consent):
    with translation.override("sv"):
        message = _refused(personas, pending_consent, "scan.pdf", JUNK_PDF)
    assert "PDF-filen går inte att läsa" in message


def test_an_encrypted_pdf_is_refused(personas, pending_consent):
    message = _refused(personas, pending_consent, "scan.pdf", scans.scan_pdf(password="hemligt"))
    assert "protected with a password" in message


def test_a_pdf_with_too_many_pages_is_refused(personas, pending_consent):
    many = scans.scan_pdf(MAX_PDF_PAGES + 1)
    assert f"has {MAX_PDF_PAGES + 1} pages" in _refused(personas, pending_consent, "scan.pdf", many)


@pytest.mark.parametrize(
    "size",
    [(100, 100), (620, 2000), (4000, 5600)],
    ids=["a stamp", "a strip", "a poster"],
)
def test_a_pdf_page_that_is_no_paper_form_is_refused(personas, pending_consent, size):
    # At 75 dpi: 96 × 96 points, 595 × 1920 points and 3840 × 5376 points.
    pdf = scans.scan_pdf(size=size)
    message = _refused(personas, pending_consent, "scan.pdf", pdf)
    assert "Page 1 of the PDF is not the size of a paper form" in message


def test_a_pdf_of_blank_pages_is_refused(personas, pending_consent):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(*scans.A4_POINTS)
    out = io.BytesIO()
    writer.write(out)
    assert "blank" in _refused(personas, pending_consent, "scan.pdf", out.getvalue())


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("scan.jpg", scans.scan_jpeg()[:6000]),
        ("scan.png", scans.scan_png()[:1500]),
        # The middle of the image data overwritten: the PNG's checksums no longer agree.
        ("scan.png", scans.scan_png()[:800] + b"\x00" * 200 + scans.scan_png()[1000:]),
    ],
    ids=["truncated JPEG", "truncated PNG", "corrupt PNG"],
)
def test_a_damaged_image_is_refused(personas, pending_consent, name, content, monkeypatch):
    # As after WeasyPrint's import, which turns Pillow's tolerance of truncated files on for
    # the whole process: the check must not depend on whether a PDF was rendered before.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    assert "The image cannot be read" in _refused(personas, pending_consent, name, content)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


@pytest.mark.parametrize(
    ("name", "content"),
    [("scan.png", scans.scan_png((10, 10))), ("scan.jpg", scans.scan_jpeg((10, 10)))],
    ids=["PNG", "JPEG"],
)
def test_a_tiny_image_is_refused(personas, pending_consent, name, content):
    message = _refused(personas, pending_consent, name, content)
    assert "10 × 10 pixels, too small" in message


def test_a_long_narrow_image_is_refused(personas, pending_consent):
    message = _refused(personas, pending_consent, "scan.png", scans.scan_png((620, 1400)))
    assert "too long and narrow" in message


@pytest.mark.parametrize("size", [(12001, 7000), (9000, 6000)], ids=["long side", "pixels"])
def test_an_image_larger_than_a_page_is_refused_before_decoding(personas, pending_consent, size):
    assert size[0] > 12000 or size[0] * size[1] > IMAGE_MAX_PIXELS
    message = _refused(personas, pending_consent, "scan.png", _png_claiming(*size))
    assert "more than a scanned page needs" in message


# --- Accepted, and stored without metadata ---------------------------------------------------


def test_a_photo_is_stored_and_served_without_exif(client_for, personas, pending_consent):
    original = scans.scan_jpeg(exif=scans.gps_exif())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the upload has GPS
    signature = _record(personas, pending_consent, "foto.jpg", original)

    served = _served(client_for, personas, signature)
    image = Image.open(io.BytesIO(served))
    assert image.format == "JPEG"
    assert image.size == scans.A4_75DPI
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info
    assert b"Exif\x00\x00" not in served
    assert scans.DEVICE.encode() not in served
    assert scans.OWNER.encode() not in served
    assert signature.evidence is not None
    assert signature.evidence.content_type == "image/jpeg"


def test_a_photo_taken_sideways_is_stored_upright(client_for, personas, pending_consent):
    # Orientation 6: the camera was turned; a viewer rotates the picture 90° clockwise.
    signature = _record(
        personas,
        pending_consent,
        "foto.jpeg",
        scans.scan_jpeg(exif=scans.gps_exif(), orientation=6),
    )
    image = Image.open(io.BytesIO(_served(client_for, personas, signature)))
    width, height = scans.A4_75DPI
    assert image.size == (height, width)
    assert dict(image.getexif()) == {}


def test_a_png_is_stored_without_its_text_chunks(client_for, personas, pending_consent):
    original = scans.scan_png(text={"Author": scans.OWNER, "Comment": "Skannad hemma hos familjen"})
    uploaded = Image.open(io.BytesIO(original))
    assert isinstance(uploaded, PngImagePlugin.PngImageFile)
    assert uploaded.text  # the upload has them
    signature = _record(personas, pending_consent, "scan.png", original)

    served = _served(client_for, personas, signature)
    image = Image.open(io.BytesIO(served))
    assert isinstance(image, PngImagePlugin.PngImageFile)
    assert image.size == scans.A4_75DPI
    assert image.text == {}
    for kind in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP"):
        assert kind not in served
    assert scans.OWNER.encode() not in served


def test_a_pdf_is_stored_without_author_title_or_image_exif(client_for, personas, pending_consent):
    original = scans.scan_pdf(
        2,
        metadata={"/Author": scans.OWNER, "/Title": "Samtycke Kalle Testberg"},
        image_exif=scans.gps_exif(),
    )
    uploaded = PdfReader(io.BytesIO(original)).metadata
    assert uploaded is not None
    assert uploaded.author == scans.OWNER
    assert scans.DEVICE.encode() in original  # the EXIF inside the page images
    signature = _record(personas, pending_consent, "scan.pdf", original)

    served = _served(client_for, personas, signature)
    reader = PdfReader(io.BytesIO(served))
    assert reader.metadata is None or not {"/Author", "/Title"} & set(reader.metadata)
    assert reader.xmp_metadata is None
    for text in (scans.OWNER, "Samtycke", "Kalle", scans.DEVICE):
        assert text.encode() not in served
    assert b"Exif\x00\x00" not in served
    # The pages are kept, and their images still decode to the scanned sheets.
    assert len(reader.pages) == 2
    for page in reader.pages:
        (image,) = page.images
        assert image.image is not None
        assert image.image.size == scans.A4_75DPI
