from django.urls import path

from samverkan.consent import views
from samverkan.consent.documents.views import document_urlpatterns

app_name = "consent"

urlpatterns = [
    path("case/<int:case_pk>/", views.case_consents_view, name="case"),
    path(
        "case/<int:case_pk>/entries/<int:entry_pk>/disclose/",
        views.statutory_disclosure_view,
        name="disclose",
    ),
    path("<int:pk>/", views.consent_detail_view, name="detail"),
    path("<int:pk>/signers/<int:signer_pk>/sign/", views.signature_add_view, name="sign"),
    path("<int:pk>/signers/<int:signer_pk>/evidence/", views.evidence_view, name="evidence"),
    path(
        "<int:pk>/signers/<int:signer_pk>/confirm/",
        views.signature_confirm_view,
        name="confirm",
    ),
    path("<int:pk>/withdraw/", views.withdrawal_add_view, name="withdraw"),
    path("<int:pk>/youth-cosigner/", views.youth_cosigner_view, name="youth_cosigner"),
    *document_urlpatterns,
]
