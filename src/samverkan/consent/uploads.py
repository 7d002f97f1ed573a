"""Checks on a scanned consent form before anything is stored.

The type is decided from the content, never from the browser's claim; the file's name must
agree with it, so a PDF renamed to .png (or anything renamed to .pdf) is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import formats
from django.utils.translation import gettext as _

# Leading bytes of each accepted format, and the names each may carry.
_FORMATS: tuple[tuple[bytes, str, frozenset[str]], ...] = (
    (b"%PDF-", "application/pdf", frozenset({".pdf"})),
    (b"\xff\xd8\xff", "image/jpeg", frozenset({".jpg", ".jpeg"})),
    (b"\x89PNG\r\n\x1a\n", "image/png", frozenset({".png"})),
)

EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


@dataclass(frozen=True)
class CheckedFile:
    content: bytes
    content_type: str
    sha256: str


def check_evidence(upload: UploadedFile) -> CheckedFile:
    limit: int = settings.CONSENT_EVIDENCE_MAX_BYTES
    if upload.size is None or upload.size == 0:
        raise ValidationError({"evidence": [_("The file is empty.")]})
    if upload.size > limit:
        raise ValidationError(
            {
                "evidence": [
                    _("The file is %(size)s MB; the largest accepted is %(limit)s MB.")
                    % {
                        "size": formats.number_format(upload.size / 1048576, 1),
                        "limit": limit // 1048576,
                    }
                ]
            }
        )
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise ValidationError({"evidence": [_("The file is larger than accepted.")]})
    name = (upload.name or "").lower()
    extension = name[name.rfind(".") :] if "." in name else ""
    for magic, content_type, extensions in _FORMATS:
        if content.startswith(magic):
            if extension not in extensions:
                raise ValidationError(
                    {
                        "evidence": [
                            _(
                                "The file's content is %(type)s but its name says otherwise. "
                                "Upload the scan under its real type."
                            )
                            % {"type": EXTENSIONS[content_type].lstrip(".").upper()}
                        ]
                    }
                )
            return CheckedFile(
                content=content,
                content_type=content_type,
                sha256=hashlib.sha256(content).hexdigest(),
            )
    raise ValidationError(
        {"evidence": [_("Only PDF, JPEG or PNG files are accepted, and this is none of them.")]}
    )
