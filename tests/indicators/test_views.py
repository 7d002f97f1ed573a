"""Pages, charts and who reaches them (DESIGN §5 personas; rule 7: 404 for what one may not see)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.urls import reverse

from samverkan.indicators.models import Direction, Indicator, IndicatorValue
from samverkan.indicators.services import indicator_values_import
from samverkan.organisations.models import Role
from tests.conftest import Personas, World
from tests.helpers import assert_trio, count_queries, make_user

pytestmark = pytest.mark.django_db


def _directives(header: str) -> dict[str, str]:
    parts = (p.strip().split(None, 1) for p in header.split(";") if p.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


def _form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Pupils in year 9 who have used cannabis",
        "area": "",
        "unit": "per cent",
        "source": "CAN Skolelevers drogvanor",
        "direction": Direction.LOWER_IS_BETTER,
        "min_value": "0",
        "max_value": "100",
        "description": "",
    }
    data.update(overrides)
    return data


# --- Who reaches what ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client_for, index_series: Indicator) -> None:
    c = client_for(None)
    for url in (
        reverse("indicators:list"),
        reverse("indicators:create"),
        reverse("indicators:detail", args=[index_series.pk]),
        reverse("indicators:edit", args=[index_series.pk]),
        reverse("indicators:import", args=[index_series.pk]),
        reverse("indicators:chart", args=[index_series.pk]),
    ):
        response = c.get(url)
        assert response.status_code == 302, url
        assert "login" in response["Location"], url
    response = c.post(
        reverse("indicators:import", args=[index_series.pk]),
        {"file": _upload("period,value\n2030,1\n"), "replace": "on"},
    )
    assert response.status_code == 302
    response = c.post(reverse("indicators:edit", args=[index_series.pk]), _form(published="on"))
    assert response.status_code == 302
    assert not IndicatorValue.objects.filter(period_label="2030").exists()
    index_series.refresh_from_db()
    assert not index_series.published


def test_read_pages_trio(client_for, personas: Personas, index_series: Indicator) -> None:
    for name, args in (
        ("indicators:list", []),
        ("indicators:detail", [index_series.pk]),
        ("indicators:chart", [index_series.pk]),
    ):
        url = reverse(name, args=args)
        assert_trio(
            client_for,
            url,
            allowed=personas.council_member,
            outsider=personas.outsider,
            wrong_method="post",
        )


def test_write_pages_trio(client_for, personas: Personas, index_series: Indicator) -> None:
    for name, args in (
        ("indicators:create", []),
        ("indicators:edit", [index_series.pk]),
        ("indicators:import", [index_series.pk]),
    ):
        assert_trio(
            client_for,
            reverse(name, args=args),
            allowed=personas.agreement_editor,
            outsider=personas.outsider,
            read_only=personas.council_member,
            method="post",
            wrong_method="put",
        )


def test_other_roles_of_the_municipality_see_nothing(
    client_for, personas: Personas, index_series: Indicator
) -> None:
    for user in (personas.practitioner, personas.coordinator, personas.auditor, personas.admin):
        c = client_for(user)
        assert c.get(reverse("indicators:list")).status_code == 404
        assert c.get(reverse("indicators:detail", args=[index_series.pk])).status_code == 404


def test_another_municipalitys_editor_gets_404(
    client_for, world: World, index_series: Indicator
) -> None:
    hedemora_editor = make_user("hedit", world.hedemora_school, Role.AGREEMENT_EDITOR)
    c = client_for(hedemora_editor)
    assert c.get(reverse("indicators:list")).status_code == 200
    assert b"Problem index" not in c.get(reverse("indicators:list")).content
    for name in ("detail", "edit", "import", "chart"):
        assert c.get(reverse(f"indicators:{name}", args=[index_series.pk])).status_code == 404


def test_police_area_editor_keeps_the_served_municipalitys_series(
    client_for, world: World, index_series: Indicator
) -> None:
    police_editor = make_user("polisavtal", world.police, Role.AGREEMENT_EDITOR)
    c = client_for(police_editor)
    assert c.get(reverse("indicators:edit", args=[index_series.pk])).status_code == 200


# --- Define and edit ----------------------------------------------------------------------------


def test_editor_defines_and_edits_a_series(client_for, world: World, personas: Personas) -> None:
    c = client_for(personas.agreement_editor)
    avesta = world.avesta_school.municipality
    assert avesta is not None
    response = c.post(reverse("indicators:create"), _form(municipality=avesta.pk))
    indicator = Indicator.objects.get(name="Pupils in year 9 who have used cannabis")
    assert response.status_code == 302
    assert response["Location"] == reverse("indicators:import", args=[indicator.pk])
    assert indicator.created_by == personas.agreement_editor
    assert not indicator.published

    response = c.post(
        reverse("indicators:edit", args=[indicator.pk]),
        _form(municipality=avesta.pk, published="on", max_value="50"),
    )
    assert response.status_code == 302
    indicator.refresh_from_db()
    assert indicator.published
    assert indicator.max_value == Decimal(50)


def test_editor_cannot_define_for_another_municipality(
    client_for, world: World, personas: Personas
) -> None:
    hedemora = world.hedemora_school.municipality
    assert hedemora is not None
    c = client_for(personas.agreement_editor)
    response = c.post(reverse("indicators:create"), _form(municipality=hedemora.pk))
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert not Indicator.objects.exists()


def test_narrowing_the_range_below_stored_values_is_refused(
    client_for, personas: Personas, index_series: Indicator
) -> None:
    c = client_for(personas.agreement_editor)
    response = c.post(
        reverse("indicators:edit", args=[index_series.pk]),
        _form(name=index_series.name, max_value="2.8"),
    )
    assert response.status_code == 200
    assert "Some stored values are above this highest value." in response.content.decode()


# --- Import through the page --------------------------------------------------------------------


def _upload(text: str | bytes, name: str = "values.csv") -> SimpleUploadedFile:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_import_page_lists_every_bad_row_and_imports_nothing(
    client_for, personas: Personas, index_series: Indicator
) -> None:
    c = client_for(personas.agreement_editor)
    response = c.post(
        reverse("indicators:import", args=[index_series.pk]),
        {"file": _upload("period;värde\n2020;2,4\n2021;;\n2022;x\n2023;7\n2020;1\n")},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was imported: 4 problems in the file" in html
    for row in (3, 4, 5, 6):
        assert f"Row {row}:" in html
    assert index_series.values.count() == 2


@pytest.mark.parametrize(
    "text",
    [
        "\ufeffperiod;värde;anteckning\r\n2020;2,4;\r\n2021;2,2;Nytt frågeformulär\r\n",
        "period,value,note\n2020,2.4,\n2021,2.2,New questionnaire\n",
        "Period\tValue\n2020\t2.4\n2021\t2.2\n",
    ],
)
def test_good_files_import(
    client_for, personas: Personas, index_series: Indicator, text: str
) -> None:
    c = client_for(personas.agreement_editor)
    response = c.post(reverse("indicators:import", args=[index_series.pk]), {"file": _upload(text)})
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert list(index_series.values.values_list("period_label", "value")) == [
        ("2018", Decimal("2.9")),
        ("2019", Decimal("2.7")),
        ("2020", Decimal("2.4")),
        ("2021", Decimal("2.2")),
    ]


def test_replace_is_a_choice(client_for, personas: Personas, index_series: Indicator) -> None:
    c = client_for(personas.agreement_editor)
    url = reverse("indicators:import", args=[index_series.pk])
    refused = c.post(url, {"file": _upload("period,value\n2019,1.5\n")})
    assert refused.status_code == 400
    assert "choose “replace”" in refused.content.decode()
    accepted = c.post(url, {"file": _upload("period,value\n2019,1.5\n"), "replace": "on"})
    assert accepted.status_code == 302
    assert index_series.values.get(period_label="2019").value == Decimal("1.5")
    page = c.get(accepted["Location"]).content.decode()
    assert "Import done. New values: 0. Replaced values: 1." in page


def test_replaced_values_are_shown_to_the_series_readers(
    client_for, personas: Personas, index_series: Indicator
) -> None:
    editor = client_for(personas.agreement_editor)
    url = reverse("indicators:detail", args=[index_series.pk])
    assert "Replaced values" not in editor.get(url).content.decode()
    editor.post(
        reverse("indicators:import", args=[index_series.pk]),
        {"file": _upload("period,value,note\n2019,1.5,Ny mätning\n"), "replace": "on"},
    )
    for reader in (personas.agreement_editor, personas.council_member):
        page = client_for(reader).get(url).content.decode()
        assert "Replaced values" in page
        history = page.split('id="h-history"')[1]
        # The value before (2.7, no note), the value now (1.5), and who replaced it.
        assert re.search(
            r"<th scope=\"row\">2019</th><td class=\"number\">2.7</td><td>–</td>"
            r"<td class=\"number\">1.5</td>",
            history,
        )
        assert personas.agreement_editor.get_full_name() in history
    assert client_for(personas.outsider).get(url).status_code == 404


def test_upload_over_the_limit_is_refused(
    client_for, personas: Personas, index_series: Indicator
) -> None:
    c = client_for(personas.agreement_editor)
    big = b"period,value\n" + b"2019,1\n" * 200_000
    response = c.post(reverse("indicators:import", args=[index_series.pk]), {"file": _upload(big)})
    assert response.status_code == 400
    assert "larger than 1 MB" in response.content.decode()


# --- Detail page and charts ---------------------------------------------------------------------


def test_detail_shows_chart_image_and_table(
    client_for, personas: Personas, index_series: Indicator
) -> None:
    response = client_for(personas.council_member).get(
        reverse("indicators:detail", args=[index_series.pk])
    )
    html = response.content.decode()
    chart_url = reverse("indicators:chart", args=[index_series.pk])
    assert re.search(rf'<img src="{re.escape(chart_url)}"[^>]*alt="Line chart of ', html)
    caption = "Problem index: drug dealing – Avesta centrum (index 0–6). Lower is better."
    assert f"<caption>{caption}</caption>" in html
    assert '<th scope="row">2018</th><td class="number">2.9</td>' in html
    assert "Import values" not in html  # a council member reads only
    assert " style=" not in html
    assert "<style" not in html


def test_page_csp_stays_strict(client_for, personas: Personas, index_series: Indicator) -> None:
    response = client_for(personas.council_member).get(
        reverse("indicators:detail", args=[index_series.pk])
    )
    policy = _directives(response["Content-Security-Policy"])
    assert policy["style-src"] == "'self'"
    assert policy["script-src"] == "'self'"


def _assert_safe_svg(response: HttpResponse) -> None:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    svg = response.content.decode()
    assert svg.lstrip().startswith("<?xml")
    assert "<svg" in svg
    assert "<script" not in svg.lower()
    assert "javascript:" not in svg.lower()
    assert "googleapis" not in svg
    policy = _directives(response["Content-Security-Policy"])
    assert policy["default-src"] == "'none'"
    assert "script-src" not in policy  # so default-src 'none' forbids every script
    assert policy["style-src"] == "'unsafe-inline'"


def test_chart_is_svg_without_script(
    client_for, personas: Personas, index_series: Indicator
) -> None:
    response = client_for(personas.agreement_editor).get(
        reverse("indicators:chart", args=[index_series.pk])
    )
    _assert_safe_svg(response)
    svg = response.content.decode()
    assert "2018" in svg
    assert "2019" in svg
    assert "Problem index: drug dealing" in svg


def test_public_chart_only_for_published_series(client_for, index_series: Indicator) -> None:
    anonymous = client_for(None)
    url = reverse("indicators:public_chart", args=[index_series.pk])
    assert anonymous.get(url).status_code == 404
    assert anonymous.get(reverse("indicators:public_chart", args=[99999])).status_code == 404
    Indicator.objects.filter(pk=index_series.pk).update(published=True)
    _assert_safe_svg(anonymous.get(url))
    assert anonymous.post(url).status_code == 405


def test_public_chart_of_several_series(
    client_for, personas: Personas, world: World, index_series: Indicator
) -> None:
    from samverkan.indicators.services import indicator_create

    other = indicator_create(
        actor=personas.agreement_editor,
        municipality=index_series.municipality,
        name="Reported drug offences",
        source="Brå",
        direction=Direction.LOWER_IS_BETTER,
        published=True,
    )
    anonymous = client_for(None)
    url = reverse("indicators:public_charts")
    both = f"{url}?id={index_series.pk}&id={other.pk}"
    assert anonymous.get(both).status_code == 404  # one of them is unpublished
    Indicator.objects.filter(pk=index_series.pk).update(published=True)
    _assert_safe_svg(anonymous.get(both))
    assert anonymous.get(f"{url}?id=x").status_code == 404
    assert anonymous.get(url).status_code == 404


# --- Query counts -------------------------------------------------------------------------------


def test_list_query_count_does_not_grow(
    client_for, personas: Personas, index_series: Indicator
) -> None:
    c = client_for(personas.council_member)
    url = reverse("indicators:list")
    count_queries(c, url)  # warm the session
    one = count_queries(c, url)
    for n in range(5):
        Indicator.objects.create(
            municipality=index_series.municipality,
            name=f"Series {n}",
            source="x",
            direction=Direction.HIGHER_IS_BETTER,
        )
    assert count_queries(c, url) == one
    assert one <= 10, one


def test_detail_query_count_does_not_grow(
    client_for, personas: Personas, index_series: Indicator
) -> None:
    c = client_for(personas.council_member)
    url = reverse("indicators:detail", args=[index_series.pk])
    count_queries(c, url)
    two = count_queries(c, url)
    for year in range(2000, 2015):
        IndicatorValue.objects.create(
            indicator=index_series,
            period_start=f"{year}-01-01",
            period_label=str(year),
            value=Decimal("1.5"),
        )
    for value in ("2.0", "2.1", "2.2"):  # each replacement keeps the value it replaced
        indicator_values_import(
            actor=personas.agreement_editor,
            indicator=index_series,
            data=f"period;värde\n2019;{value}\n2000;{value}\n".encode(),
            replace=True,
        )
    assert count_queries(c, url) == two
    assert two <= 12, two  # the replaced values are one query
