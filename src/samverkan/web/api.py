"""The HTTP API at /api/v1/: one ``NinjaAPI`` that mounts every app's router.

It lives in the top layer because it imports the domain apps; they import only
``samverkan.api`` (conventions, auth, models, schemas), never this module. Each router reads
through the same selectors and rules as the pages.
"""

from __future__ import annotations

from samverkan.api import conventions
from samverkan.api.account import router as account_router
from samverkan.api.auth import BearerToken
from samverkan.api.idempotency import idempotent
from samverkan.api.openapi import DocumentedErrorsAPI
from samverkan.cases.api import router as cases_router
from samverkan.consent.api import cases_router as case_consents_router
from samverkan.consent.api import router as consents_router
from samverkan.meetings.api import router as meetings_router
from samverkan.promises.api import agreements_router, promises_router
from samverkan.stats.api import router as stats_router

api = DocumentedErrorsAPI(
    title="Samverkan API",
    version="1",
    description=(
        "Personal access tokens: `Authorization: Bearer svk_…`, created with "
        "`samverkan token create` or on the account page."
    ),
    urls_namespace="api-v1",
    docs_url=None,  # the interactive docs page loads scripts from a CDN; the CSP forbids that
    openapi_url="/openapi.json",
    auth=BearerToken(),
)
api.add_decorator(idempotent, mode="view")  # the Idempotency-Key header on writes
conventions.install(api)  # a service's ValidationError answers 400 FieldErrorsOut

api.add_router("", account_router)  # /me, /tokens
api.add_router("/cases", cases_router)
api.add_router("/cases", case_consents_router)
api.add_router("/consents", consents_router)
api.add_router("/meetings", meetings_router)
api.add_router("/promises", promises_router)  # anonymous: published agreements only
api.add_router("/agreements", agreements_router)
api.add_router("/stats", stats_router)
