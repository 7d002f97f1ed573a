"""The meetings part of the HTTP API (/api/v1/meetings). Same selectors and rules as the pages."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["meetings"])
