"""The public promise tracker under /promises/: an anonymous visitor on every URL (list, detail,
chart, feed, PDF) sees published agreements only, nothing unpublished (404 exactly like a
missing one), and nothing to write to."""

from __future__ import annotations

import io
import os
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from samverkan.indicators.charts import SVG_POLICY
from samverkan.indicators.models import Direction, Indicator, IndicatorValue
from samverkan.promises import reports, services
from samverkan.promises.models import Agreement, FollowUp, Kind, Verdict
from tests.helpers import count_queries
from tests.promises.conftest import (
    DRAFT_TITLE,
    HEDEMORA_TITLE,
    PromiseWorld,
    make_agreement,
    sign_and_activate,
)

ATOM = "{http://www.w3.org/2005/Atom}"
PUBLIC_TITLE = "Medborgarlöfte Avesta 2019"
NARRATIVE = "Trygghetsvandringarna har kommit igång."


def anonymous(language: str = "en") -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=language)


def follow_up(editor, agreement: Agreement, narrative: str = NARRATIVE, **kw) -> FollowUp:
    return services.follow_up_add(
        actor=editor,
        agreement=agreement,
        on=kw.pop("on", date(2019, 9, 1)),
        narrative=narrative,
        **kw,
    )


def public_urls(agreement: Agreement) -> dict[str, str]:
    pk = agreement.pk
    return {
        "detail": reverse("tracker:detail", args=[pk]),
        "chart": reverse("tracker:progress_chart", args=[pk]),
        "pdf": reverse("tracker:pdf", args=[pk]),
    }


def all_public_urls(pw: PromiseWorld) -> list[str]:
    code = pw.promise.municipality.code
    return [
        reverse("tracker:list"),
        f"{reverse('tracker:list')}?municipality={code}",
        *public_urls(pw.promise).values(),
        reverse("tracker:feed"),
        reverse("tracker:municipality_feed", args=[code]),
    ]


@pytest.fixture
def activity(personas, promise_world):
    return services.activity_add(
        actor=personas.agreement_editor,
        commitment=promise_world.police_commitment,
        on=date(2019, 5, 2),
        description="Trygghetsvandring i centrum.",
        count=1,
    )


# --- Published only --------------------------------------------------------------------------


def test_anonymous_visitor_sees_published_promises_on_the_list(personas, promise_world, activity):
    follow_up(personas.agreement_editor, promise_world.promise)
    response = anonymous().get(reverse("tracker:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert PUBLIC_TITLE in html
    assert "Avesta" in html
    assert "Polisen håller trygghetsvandringar." in html
    assert "The police promise" in html
    assert "Joint" in html
    assert "1 of 2 tillfällen per år" in html  # progress toward the countable target
    assert "2019-03-22 – 2020-12-31" in html
    assert NARRATIVE in html
    assert DRAFT_TITLE not in html
    assert HEDEMORA_TITLE not in html
    assert "Interna anteckningar." not in html  # cause analysis is not published


def test_anonymous_is_never_sent_to_login_on_public_urls(promise_world):
    # MfaRequiredMiddleware and SessionTimeoutMiddleware act on signed-in users only.
    for url in all_public_urls(promise_world):
        response = anonymous().get(url)
        assert response.status_code == 200, (url, response.status_code)


def test_detail_shows_everything_public(personas, promise_world, activity):
    editor = personas.agreement_editor
    f = follow_up(
        editor,
        promise_world.promise,
        progress={
            promise_world.police_commitment.pk: services.ProgressEntry("on_track", "En av två")
        },
    )
    response = anonymous().get(public_urls(promise_world.promise)["detail"])
    assert response.status_code == 200
    html = response.content.decode()
    for expected in (
        PUBLIC_TITLE,
        "Narkotikaanvändning bland unga",
        "Narkotikaanvändningen bland unga har ökat.",
        "Polisen håller trygghetsvandringar.",
        "Starta en samverkansgrupp.",
        "Trygghetsvandring i centrum.",
        NARRATIVE,
        f'id="follow-up-{f.pk}"',
        "En av två",
        "Namn för Polisen",  # signatories: public officials acting in office
        "Not yet assessed by every party",
    ):
        assert expected in html, expected
    assert "Interna anteckningar." not in html
    assert editor.username not in html  # who recorded things is not public
    assert "/agreements/" not in html  # no way into the editor pages


@pytest.mark.parametrize("which", ["draft", "hedemora", "missing", "unpublished"])
def test_nothing_unpublished_is_visible_anywhere(personas, promise_world, which):
    editor = personas.agreement_editor
    follow_up(editor, promise_world.promise, narrative="Hemlig uppföljning.")
    if which == "draft":
        agreement = promise_world.draft
    elif which == "hedemora":
        agreement = promise_world.hedemora
    elif which == "missing":
        agreement = Agreement(pk=987654)
    else:
        agreement = services.agreement_unpublish(actor=editor, agreement=promise_world.promise)
    for name, url in public_urls(agreement).items():
        response = anonymous().get(url)
        assert response.status_code == 404, (name, response.status_code)
        assert PUBLIC_TITLE not in response.content.decode()
    for url in (reverse("tracker:list"), reverse("tracker:feed")):
        body = anonymous().get(url).content.decode()
        assert DRAFT_TITLE not in body
        assert HEDEMORA_TITLE not in body
        if which == "unpublished":
            assert PUBLIC_TITLE not in body
            assert "Hemlig uppföljning." not in body


def test_staff_see_only_published_agreements_on_the_tracker_too(
    client_for, personas, promise_world
):
    # Editors read drafts on /agreements/; the tracker shows what the public sees, to everyone.
    client = client_for(personas.agreement_editor)
    assert client.get(public_urls(promise_world.draft)["detail"]).status_code == 404
    assert DRAFT_TITLE not in client.get(reverse("tracker:list")).content.decode()
    assert client.get(public_urls(promise_world.promise)["detail"]).status_code == 200


def test_linked_successor_and_predecessor_show_only_when_published(personas, promise_world):
    editor = personas.agreement_editor
    successor = make_agreement(
        editor,
        promise_world.promise.municipality,
        title="Samverkansöverenskommelse",
        kind=Kind.COOPERATION,
    )
    party = services.party_add(
        actor=editor,
        agreement=successor,
        name="Polisen",
        kind="police",
        agency=promise_world.police.agency,
    )
    services.agreement_link(
        actor=editor, agreement=successor, succeeds=promise_world.promise, overlaps=[]
    )
    promise_url = public_urls(promise_world.promise)["detail"]
    assert "Samverkansöverenskommelse" not in anonymous().get(promise_url).content.decode()
    successor = sign_and_activate(editor, successor, [party])
    services.agreement_publish(actor=editor, agreement=successor)
    html = anonymous().get(promise_url).content.decode()
    assert "Succeeded by" in html
    assert f'href="{public_urls(successor)["detail"]}"' in html
    back = anonymous().get(public_urls(successor)["detail"]).content.decode()
    assert "Succeeds" in back
    assert f'href="{promise_url}"' in back


def test_municipality_filter(promise_world):
    avesta = promise_world.promise.municipality
    url = reverse("tracker:list")
    html = anonymous().get(f"{url}?municipality={avesta.code}").content.decode()
    assert PUBLIC_TITLE in html
    assert f'<option value="{avesta.code}" selected>' in html
    # Hedemora has a draft only: a filter on it shows nothing, and says so.
    html = anonymous().get(f"{url}?municipality=2083").content.decode()
    assert PUBLIC_TITLE not in html
    assert HEDEMORA_TITLE not in html
    assert "has no published promises yet" in html
    # Hedemora is not offered in the filter: it has nothing published.
    assert 'value="2083"' not in anonymous().get(url).content.decode()
    for bad in ("9999", "abc", "20840"):
        assert anonymous().get(f"{url}?municipality={bad}").status_code == 404, bad


@pytest.mark.parametrize(("language", "status"), [("sv", "Aktiv"), ("en", "Active")])
def test_swedish_by_default_and_english_on_request(promise_world, language, status):
    for url in (reverse("tracker:list"), public_urls(promise_world.promise)["detail"]):
        html = anonymous(language).get(url).content.decode()
        assert f'<html lang="{language}">' in html
        assert status in html
    html = Client().get(reverse("tracker:list")).content.decode()  # no preference: Swedish
    assert '<html lang="sv">' in html


def test_header_links_to_the_tracker_for_everyone(client_for, personas, promise_world):
    href = f'href="{reverse("tracker:list")}"'
    assert href in anonymous().get(reverse("account_login")).content.decode()
    assert href in client_for(personas.practitioner).get("/").content.decode()


# --- No writes -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_no_write_endpoint_on_the_public_side(client_for, personas, promise_world, method):
    for client in (anonymous(), client_for(personas.agreement_editor)):
        for url in all_public_urls(promise_world):
            response = getattr(client, method)(url, {})
            assert response.status_code == 405, (url, method, response.status_code)
    assert Agreement.objects.get(pk=promise_world.promise.pk).published


def test_head_is_allowed(promise_world):
    assert anonymous().head(reverse("tracker:list")).status_code == 200


# --- Chart -----------------------------------------------------------------------------------


def test_progress_chart_is_a_script_free_svg_under_its_own_policy(promise_world, activity):
    response = anonymous().get(public_urls(promise_world.promise)["chart"])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    svg = response.content.decode()
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg[:400]
    assert "<script" not in svg
    assert "Commitment 1" in svg
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    assert SVG_POLICY["style-src"][0] in policy
    ET.fromstring(response.content)  # noqa: S314 - well-formed; our own server's output


def test_detail_has_the_chart_with_alt_text_and_its_data_table(promise_world, activity):
    html = anonymous().get(public_urls(promise_world.promise)["detail"]).content.decode()
    chart_url = public_urls(promise_world.promise)["chart"]
    assert f'src="{chart_url}"' in html
    assert 'alt="Bar chart of how large a share of its target' in html
    assert "<caption>Progress toward the targets, from the activity log</caption>" in html
    assert '<th scope="col">Target</th>' in html
    assert "50 %" in html  # 1 of 2


def test_linked_published_indicator_is_charted_and_unpublished_is_not(personas, promise_world):
    editor = personas.agreement_editor
    avesta = promise_world.promise.municipality

    def series(name: str, published: bool) -> Indicator:
        indicator = Indicator.objects.create(
            municipality=avesta,
            name=name,
            source="Polisens trygghetsmätning",
            direction=Direction.LOWER_IS_BETTER,
            published=published,
        )
        IndicatorValue.objects.create(
            indicator=indicator,
            period_start=date(2019, 1, 1),
            period_label="2019",
            value=Decimal("2.5"),
        )
        return indicator

    public = series("Problemindex", True)
    hidden = series("Intern serie", False)
    services.commitment_update(
        actor=editor,
        commitment=promise_world.joint_commitment,
        text=promise_world.joint_commitment.text,
        status="ongoing",
        target_count=None,
        target_unit="",
        indicators=Indicator.objects.filter(pk__in=[public.pk, hidden.pk]),
    )
    html = anonymous().get(public_urls(promise_world.promise)["detail"]).content.decode()
    assert "Problemindex" in html
    assert reverse("indicators:public_chart", args=[public.pk]) in html
    assert "2.5" in html or "2,5" in html
    assert "Intern serie" not in html
    assert reverse("indicators:public_chart", args=[hidden.pk]) not in html
    assert anonymous().get(reverse("indicators:public_chart", args=[public.pk])).status_code == 200


# --- Feed ------------------------------------------------------------------------------------


def _entries(content: bytes) -> tuple[ET.Element, list[ET.Element]]:
    root = ET.fromstring(content)  # noqa: S314 - our own server's output
    assert root.tag == f"{ATOM}feed"
    return root, root.findall(f"{ATOM}entry")


def test_feed_is_atom_with_follow_ups_of_published_promises_only(personas, promise_world):
    editor = personas.agreement_editor
    published = follow_up(editor, promise_world.promise)
    # An active but unpublished agreement with a follow-up of its own.
    secret = make_agreement(editor, promise_world.promise.municipality, title="Opublicerat avtal")
    party = services.party_add(
        actor=editor,
        agreement=secret,
        name="Polisen",
        kind="police",
        agency=promise_world.police.agency,
    )
    secret = sign_and_activate(editor, secret, [party])
    follow_up(editor, secret, narrative="Hemlig uppföljning.")

    response = anonymous().get(reverse("tracker:feed"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    _root, entries = _entries(response.content)
    assert len(entries) == 1
    entry = entries[0]
    assert PUBLIC_TITLE in (entry.findtext(f"{ATOM}title") or "")
    link = entry.find(f"{ATOM}link")
    assert link is not None
    assert link.get("href", "").endswith(
        f"{public_urls(promise_world.promise)['detail']}#follow-up-{published.pk}"
    )
    assert NARRATIVE in (entry.findtext(f"{ATOM}summary") or "")
    body = response.content.decode()
    assert "Hemlig uppföljning." not in body
    assert "Opublicerat avtal" not in body
    assert editor.username not in body
    assert editor.email not in body
    assert entry.find(f"{ATOM}author") is None


def test_feed_per_municipality(personas, promise_world):
    follow_up(personas.agreement_editor, promise_world.promise)
    avesta = anonymous().get(reverse("tracker:municipality_feed", args=["2084"]))
    root, entries = _entries(avesta.content)
    assert len(entries) == 1
    assert "Avesta" in (root.findtext(f"{ATOM}title") or "")
    _, none = _entries(anonymous().get(reverse("tracker:municipality_feed", args=["2083"])).content)
    assert none == []
    assert anonymous().get("/promises/feed/9999/").status_code == 404


def test_feed_escapes_the_narrative_as_html(personas, promise_world):
    follow_up(
        personas.agreement_editor, promise_world.promise, narrative="<script>x()</script> & co"
    )
    _, entries = _entries(anonymous().get(reverse("tracker:feed")).content)
    summary = entries[0].findtext(f"{ATOM}summary") or ""
    # The summary is HTML to a feed reader: the narrative must arrive as text.
    assert "<script>" not in summary
    assert "&lt;script&gt;" in summary


def test_feed_query_count_does_not_grow(personas, promise_world):
    editor = personas.agreement_editor
    c = promise_world.police_commitment.pk
    follow_up(editor, promise_world.promise, progress={c: services.ProgressEntry("on_track")})
    client = anonymous()
    url = reverse("tracker:feed")
    one = count_queries(client, url)
    for _i in range(9):
        follow_up(editor, promise_world.promise, progress={c: services.ProgressEntry("behind")})
    assert count_queries(client, url) == one


# --- Query counts ----------------------------------------------------------------------------


def _grow(editor, agreement: Agreement, party, n: int) -> None:
    for i in range(n):
        commitment = services.commitment_add(
            actor=editor, agreement=agreement, party=party, text=f"Åtagande {i}", target_count=3
        )
        services.activity_add(
            actor=editor, commitment=commitment, on=date(2019, 6, 1), description="Gjort"
        )
    follow_up(
        editor,
        agreement,
        progress={c.pk: services.ProgressEntry("on_track") for c in agreement.commitments.all()},
    )


@pytest.fixture
def running(personas, world):
    """A published, running promise with one party, ready to grow."""
    editor = personas.agreement_editor
    agreement = make_agreement(editor, world.avesta_school.municipality)
    party = services.party_add(
        actor=editor, agreement=agreement, name="P", kind="police", agency=world.police
    )
    agreement = sign_and_activate(editor, agreement, [party])
    return editor, services.agreement_publish(actor=editor, agreement=agreement), party


def test_detail_query_count_is_the_same_for_1_and_10(running):
    editor, agreement, party = running
    _grow(editor, agreement, party, 1)
    client = anonymous()
    url = reverse("tracker:detail", args=[agreement.pk])
    one = count_queries(client, url)
    _grow(editor, agreement, party, 9)
    assert count_queries(client, url) == one
    assert one <= 15


def test_list_query_count_is_the_same_for_1_and_10(running, personas, world):
    editor, agreement, party = running
    _grow(editor, agreement, party, 1)
    client = anonymous()
    url = reverse("tracker:list")
    one = count_queries(client, url)
    _grow(editor, agreement, party, 9)
    for i in range(9):
        more = make_agreement(editor, world.avesta_school.municipality, title=f"Löfte {i}")
        p = services.party_add(
            actor=editor, agreement=more, name="P", kind="police", agency=world.police
        )
        more = services.agreement_publish(
            actor=editor, agreement=sign_and_activate(editor, more, [p])
        )
        _grow(editor, more, p, 2)
    assert count_queries(client, url) == one
    assert one <= 15


# --- PDF -------------------------------------------------------------------------------------


def _pango_missing() -> str:
    try:
        import weasyprint  # noqa: F401
    except OSError as exc:  # WeasyPrint needs the system's Pango library
        return str(exc).splitlines()[0]
    return ""


@pytest.fixture
def pdf_ready() -> None:
    """Skip without Pango on a developer's machine; fail where SAMVERKAN_REQUIRE_PDF=1 (CI)."""
    missing = _pango_missing()
    if missing:
        if os.environ.get("SAMVERKAN_REQUIRE_PDF", "") not in ("", "0"):
            pytest.fail(f"SAMVERKAN_REQUIRE_PDF=1 but WeasyPrint cannot load: {missing}")
        pytest.skip(f"PDF tests skipped: WeasyPrint cannot load ({missing})")


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_pdf_of_a_published_promise(pdf_ready, personas, promise_world, activity):
    follow_up(personas.agreement_editor, promise_world.promise)
    response = anonymous().get(public_urls(promise_world.promise)["pdf"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    disposition = response["Content-Disposition"]
    assert 'filename="medborgarlofte-avesta-2019.pdf"' in disposition
    text = pdf_text(response.content)
    for expected in (
        PUBLIC_TITLE,
        "Commitments",
        "Polisen håller trygghetsvandringar.",
        "1 of 2 tillfällen per år",
        NARRATIVE,
        "Namn för Polisen",
    ):
        assert expected in text, expected
    assert "Interna anteckningar." not in text


def test_pdf_is_tagged_and_follows_the_language(pdf_ready, promise_world):
    from pypdf import PdfReader

    english = anonymous("en").get(public_urls(promise_world.promise)["pdf"]).content
    swedish = anonymous("sv").get(public_urls(promise_world.promise)["pdf"]).content
    root = PdfReader(io.BytesIO(english)).root_object
    assert "/StructTreeRoot" in root  # tagged
    assert root.get("/Lang") == "en"
    assert PdfReader(io.BytesIO(swedish)).root_object.get("/Lang") == "sv"
    assert "Active" in pdf_text(english)
    assert "Aktiv" in pdf_text(swedish)


def test_pdf_unavailable_without_pango_answers_503(promise_world, monkeypatch):
    def missing(*args, **kwargs):
        raise reports.PdfUnavailableError("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(reports, "promise_pdf", missing)
    response = anonymous().get(public_urls(promise_world.promise)["pdf"])
    assert response.status_code == 503
    assert "Pango" in response.content.decode()


def test_fulfilled_once_every_party_assesses_it_fulfilled(personas, promise_world):
    url = public_urls(promise_world.promise)["detail"]
    for party in (promise_world.police, promise_world.municipality):
        html = anonymous().get(url).content.decode()
        assert "fulfilment-pending" in html
        assert "fulfilment-fulfilled" not in html
        services.assessment_record(
            actor=promise_world.assessor(party),
            agreement=promise_world.promise,
            party=party,
            verdict=Verdict.FULFILLED,
            statement="Uppfyllt.",
            assessed_on=date(2021, 2, 1),
        )
    html = anonymous().get(url).content.decode()
    assert "every party has assessed it fulfilled" in html
    assert "fulfilment-fulfilled" in html
