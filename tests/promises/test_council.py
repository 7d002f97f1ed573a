"""The council report (/promises/council/): every running agreement of the viewer's
municipalities, published or not, with where its follow-up stands; for council members and
agreement editors only."""

from __future__ import annotations

import io
import os
from datetime import date

import pytest
from django.urls import reverse

from samverkan.organisations.models import Role
from samverkan.promises import reports, services
from samverkan.promises.models import Verdict
from tests.helpers import count_queries, make_user
from tests.promises.conftest import (
    DRAFT_TITLE,
    HEDEMORA_TITLE,
    PromiseWorld,
    make_agreement,
    sign_and_activate,
)

URL = "/promises/council/"
PDF_URL = "/promises/council/pdf/"
PUBLIC_TITLE = "Medborgarlöfte Avesta 2019"
UNPUBLISHED_TITLE = "Opublicerad samverkansöverenskommelse"


@pytest.fixture
def council_world(personas, promise_world: PromiseWorld):
    """The published promise with a follow-up, and a running agreement that is not published."""
    editor = personas.agreement_editor
    services.activity_add(
        actor=editor,
        commitment=promise_world.police_commitment,
        on=date(2019, 5, 2),
        description="Trygghetsvandring.",
    )
    services.follow_up_add(
        actor=editor,
        agreement=promise_world.promise,
        on=date(2019, 6, 1),
        narrative="Äldre uppföljning.",
    )
    services.follow_up_add(
        actor=editor,
        agreement=promise_world.promise,
        on=date(2019, 9, 1),
        narrative="Vandringarna har kommit igång.",
        progress={
            promise_world.police_commitment.pk: services.ProgressEntry("behind", "En av två")
        },
    )
    services.assessment_record(
        actor=promise_world.police_editor,
        agreement=promise_world.promise,
        party=promise_world.police,
        verdict=Verdict.PARTLY,
        statement="Delvis uppfyllt hittills.",
        assessed_on=date(2020, 1, 10),
    )
    unpublished = make_agreement(
        editor, promise_world.promise.municipality, title=UNPUBLISHED_TITLE
    )
    party = services.party_add(
        actor=editor,
        agreement=unpublished,
        name="Polisen",
        kind="police",
        agency=promise_world.police.agency,
    )
    services.commitment_add(
        actor=editor, agreement=unpublished, party=party, text="Ett opublicerat åtagande."
    )
    return sign_and_activate(editor, unpublished, [party])


def test_council_member_sees_every_running_agreement_with_its_follow_up(
    client_for, personas, council_world
):
    response = client_for(personas.council_member).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for expected in (
        PUBLIC_TITLE,
        UNPUBLISHED_TITLE,  # published or not
        "Ett opublicerat åtagande.",
        "2019-09-01",  # the latest follow-up …
        "Vandringarna har kommit igång.",
        "Behind – En av två",  # … and where it said each commitment stands
        "1 of 2 tillfällen per år",  # the activity log's progress
        "Partly fulfilled",
        "Delvis uppfyllt hittills.",
        "Not followed up yet",  # the unpublished one has no follow-up
        "Not reported",
    ):
        assert expected in html, expected
    assert "Äldre uppföljning." not in html  # only the latest follow-up's narrative
    assert DRAFT_TITLE not in html  # a draft is not running
    assert HEDEMORA_TITLE not in html


def test_assessed_agreements_are_not_in_the_report(client_for, personas, promise_world):
    editor = personas.agreement_editor
    for party in (promise_world.police, promise_world.municipality):
        services.assessment_record(
            actor=promise_world.assessor(party),
            agreement=promise_world.promise,
            party=party,
            verdict=Verdict.FULFILLED,
            statement="Uppfyllt.",
            assessed_on=date(2021, 1, 1),
        )
    services.agreement_transition(actor=editor, agreement=promise_world.promise, to="assessed")
    html = client_for(personas.council_member).get(URL).content.decode()
    assert PUBLIC_TITLE not in html
    assert "No running agreements." in html


@pytest.mark.parametrize("persona", ["council_member", "agreement_editor"])
def test_council_member_and_editor_get_the_page(client_for, personas, council_world, persona):
    response = client_for(getattr(personas, persona)).get(URL)
    assert response.status_code == 200
    assert UNPUBLISHED_TITLE in response.content.decode()


@pytest.mark.parametrize(
    "persona",
    ["practitioner", "police", "coordinator", "auditor", "admin", "outsider", "no_role"],
)
def test_everyone_else_gets_404(client_for, personas, council_world, persona):
    client = client_for(getattr(personas, persona))
    for url in (URL, PDF_URL, f"{URL}?municipality=2084"):
        response = client.get(url)
        assert response.status_code == 404, (persona, url)
        assert UNPUBLISHED_TITLE not in response.content.decode()


def test_anonymous_is_sent_to_login(client, council_world):
    for url in (URL, PDF_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_wrong_method_is_405(client_for, personas, council_world, method):
    client = client_for(personas.council_member)
    for url in (URL, PDF_URL):
        assert getattr(client, method)(url, {}).status_code == 405


def test_another_municipalitys_editor_sees_only_their_own(client_for, promise_world, council_world):
    client = client_for(promise_world.hedemora_editor)
    html = client.get(URL).content.decode()
    assert PUBLIC_TITLE not in html
    assert UNPUBLISHED_TITLE not in html
    assert "Hedemora" in html
    assert client.get(f"{URL}?municipality=2084").status_code == 404  # not theirs: as missing
    assert client.get(f"{URL}?municipality=2083").status_code == 200
    assert client.get(f"{URL}?municipality=9999").status_code == 404


def test_a_police_editor_serving_two_municipalities_chooses_between_them(
    client_for, world, council_world
):
    kommunpolis = make_user("kommunpolis", world.police, Role.AGREEMENT_EDITOR)
    client = client_for(kommunpolis)
    html = client.get(URL).content.decode()
    assert "Avesta" in html
    assert "Hedemora" in html
    assert 'name="municipality"' in html
    only = client.get(f"{URL}?municipality=2083").content.decode()
    assert UNPUBLISHED_TITLE not in only
    assert UNPUBLISHED_TITLE in client.get(f"{URL}?municipality=2084").content.decode()


def test_home_page_links_council_members_to_the_report(client_for, personas):
    assert f'href="{URL}"' in client_for(personas.council_member).get("/").content.decode()
    assert f'href="{URL}"' not in client_for(personas.practitioner).get("/").content.decode()


def test_query_count_does_not_grow_with_agreements(client_for, personas, council_world, world):
    editor = personas.agreement_editor
    client = client_for(personas.council_member)
    client.get(URL)
    one = count_queries(client, URL)
    for i in range(5):
        more = make_agreement(editor, world.avesta_school.municipality, title=f"Avtal {i}")
        party = services.party_add(
            actor=editor, agreement=more, name="P", kind="police", agency=world.police
        )
        more = sign_and_activate(editor, more, [party])
        for n in range(3):
            services.commitment_add(actor=editor, agreement=more, party=party, text=f"Å {n}")
        services.follow_up_add(actor=editor, agreement=more, on=date(2020, 1, 1), narrative="F")
    assert count_queries(client, URL) == one


def test_pdf_unavailable_answers_503(client_for, personas, council_world, monkeypatch):
    def missing(*args, **kwargs):
        raise reports.PdfUnavailableError("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(reports, "council_pdf", missing)
    response = client_for(personas.council_member).get(PDF_URL)
    assert response.status_code == 503
    assert "Pango" in response.content.decode()


def _pango_missing() -> str:
    try:
        import weasyprint  # noqa: F401
    except OSError as exc:  # WeasyPrint needs the system's Pango library
        return str(exc).splitlines()[0]
    return ""


def test_council_pdf(client_for, personas, council_world):
    missing = _pango_missing()
    if missing:
        if os.environ.get("SAMVERKAN_REQUIRE_PDF", "") not in ("", "0"):
            pytest.fail(f"SAMVERKAN_REQUIRE_PDF=1 but WeasyPrint cannot load: {missing}")
        pytest.skip(f"PDF tests skipped: WeasyPrint cannot load ({missing})")
    from pypdf import PdfReader

    response = client_for(personas.council_member).get(f"{PDF_URL}?municipality=2084")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]  # unpublished agreements are in it
    assert "council-report-2084-" in response["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    for expected in (
        PUBLIC_TITLE,
        UNPUBLISHED_TITLE,
        "Vandringarna har kommit igång.",
        "Partly fulfilled",
    ):
        assert expected in text, expected
    assert "/StructTreeRoot" in reader.root_object
