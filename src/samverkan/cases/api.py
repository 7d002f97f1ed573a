"""The cases part of the HTTP API (/api/v1/cases). Same selectors and rules as the pages."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["cases"])
