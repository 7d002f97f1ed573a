"""The public page and feed of recent signed checkpoints of the audit log (D28), no login.

A checkpoint is a sequence number, a hash and a time, signed: nothing in it names a person, and
nothing here says who or what made it. Whoever keeps copies can later hold the log to them
(``samverkan audit verify --checkpoint FILE``), so publishing them is the point; reading them is
not audited, like the public promise tracker. Read-only: GET and HEAD, anything else 405. One
query whatever the number of checkpoints.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from samverkan.audit import checkpoints

# As many as the worker makes in about two days (one an hour).
SHOWN = 50
ALGORITHM = "Ed25519"


def _published() -> list[checkpoints.Published]:
    return [checkpoints.published(c) for c in checkpoints.recent(SHOWN)]


@require_safe
def checkpoint_list_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "audit/checkpoints.html",
        {
            "checkpoints": _published(),
            "public_key": checkpoints.public_key_b64(),
            "key_id": checkpoints.key_id(),
            "algorithm": ALGORITHM,
            "kind": checkpoints.KIND,
            "shown": SHOWN,
        },
    )


@require_safe
def checkpoint_feed_view(request: HttpRequest) -> HttpResponse:
    response = JsonResponse(
        {
            "public_key": checkpoints.public_key_b64(),
            "key_id": checkpoints.key_id(),
            "algorithm": ALGORITHM,
            "checkpoints": [p.to_dict() for p in _published()],
        },
        json_dumps_params={"indent": 2},
    )
    # Public data without cookies: any site (an archive, a newsroom's checker) may fetch it.
    response["Access-Control-Allow-Origin"] = "*"
    return response
