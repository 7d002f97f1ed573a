"""The CSV import: every row checked, each bad row reported, nothing stored unless all are good."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from samverkan.audit.models import AuditEvent
from samverkan.indicators.csv_import import (
    MAX_BYTES,
    MAX_ROWS,
    PeriodError,
    parse_number,
    parse_period,
    parse_values_csv,
)
from samverkan.indicators.models import Indicator, IndicatorValue, IndicatorValueHistory
from samverkan.indicators.services import ImportRejectedError, indicator_values_import
from tests.conftest import Personas


def _messages(data: str, **kwargs: Decimal) -> list[str]:
    return [str(e) for e in parse_values_csv(data.encode("utf-8"), **kwargs).errors]


@pytest.mark.parametrize(
    ("raw", "start", "label"),
    [
        ("2019", date(2019, 1, 1), "2019"),
        ("2019-3", date(2019, 3, 1), "2019-03"),
        ("2019-03-15", date(2019, 3, 15), "2019-03-15"),
        ("vt 2021", date(2021, 1, 1), "VT 2021"),
        ("HT2021", date(2021, 8, 1), "HT 2021"),
        ("2021 kv 3", date(2021, 7, 1), "2021 Q3"),
        ("2021-Q4", date(2021, 10, 1), "2021 Q4"),
    ],
)
def test_periods(raw: str, start: date, label: str) -> None:
    assert parse_period(raw) == (start, label)


@pytest.mark.parametrize("raw", ["19", "2019-13", "2019-02-30", "VT21", "1850", "Q5 2021", "x"])
def test_bad_periods(raw: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(raw)


@pytest.mark.parametrize(
    ("raw", "value"),
    [("2,5", "2.5"), ("2.5", "2.5"), ("1 234,5", "1234.5"), ("\u22120,3", "-0.3"), ("7", "7")],
)
def test_numbers(raw: str, value: str) -> None:
    assert parse_number(raw) == Decimal(value)


def test_malformed_csv_reports_each_bad_row() -> None:
    data = (
        "period,value,note\n"
        "2016,2.5,\n"  # row 2: good
        "2017,,\n"  # row 3: value missing
        "2018,abc,\n"  # row 4: not a number
        "20x9,2.1,\n"  # row 5: bad period
        "2016,2.0,\n"  # row 6: duplicate of row 2
        "2020,7.5,\n"  # row 7: above the declared range
        ",1.0,\n"  # row 8: period missing
        "2021,1.23456,\n"  # row 9: too many decimals
        "2022,1.0,x,extra\n"  # row 10: more cells than columns
    )
    errors = parse_values_csv(data.encode(), min_value=Decimal(0), max_value=Decimal(6)).errors
    assert [e.row for e in errors] == [3, 4, 5, 6, 7, 8, 9, 10]
    text = [str(e) for e in errors]
    assert text[0] == "Row 3: the value is missing"
    assert text[1] == "Row 4: “abc” is not a number"
    assert text[2].startswith("Row 5: “20x9” is not a period")
    assert text[3] == "Row 6: period 2016 is already given on row 2"
    assert text[4] == "Row 7: the value 7.5 is above the highest possible value 6"
    assert text[5] == "Row 8: the period is missing"
    assert text[6] == "Row 9: the value has more than 4 decimals"
    assert text[7] == "Row 10: the row has more cells than the header has columns"


def test_one_row_can_have_several_errors() -> None:
    assert _messages("period,value\nfoo,bar\n") == [
        "Row 2: “foo” is not a period (write e.g. 2019, 2019-03, 2019-03-01, VT 2021, HT 2021 "
        "or 2021 Q3)",
        "Row 2: “bar” is not a number",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "The file is empty: it needs a header row."),
        (
            "2019,2.5\n",
            "Row 1: Unknown column “2019”. The columns are period, value and (optionally) note.",
        ),
        ("period,note\n2019,x\n", "Row 1: The header row has no “value” column."),
        ("period,value,värde\n", "Row 1: Column “value” appears twice."),
        ("period,value\n", "The file has a header row but no values."),
    ],
)
def test_file_level_errors(data: str, message: str) -> None:
    assert message in _messages(data)


def test_not_utf8_is_refused_with_advice() -> None:
    errors = parse_values_csv("period;värde\n2019;2,5\n".encode("cp1252")).errors
    assert "CSV UTF-8" in str(errors[0])


def test_size_and_row_limits() -> None:
    too_big = b"period,value\n" + b"x" * MAX_BYTES
    assert "larger than" in str(parse_values_csv(too_big).errors[0])
    many = "period,value\n" + "".join(
        f"{2000 + i % 100}-{1 + i % 12:02d}-01,1\n" for i in range(MAX_ROWS + 1)
    )
    assert any("more than" in str(e) for e in parse_values_csv(many.encode()).errors)


def test_swedish_excel_file_parses() -> None:
    data = "\ufeffPeriod;Värde;Anteckning\r\n2019;2,4;\r\n2020;2,1;Färre svarande\r\n;;\r\n"
    parsed = parse_values_csv(data.encode("utf-8"))
    assert parsed.errors == []
    assert [(r.period_label, r.value, r.note) for r in parsed.rows] == [
        ("2019", Decimal("2.4"), ""),
        ("2020", Decimal("2.1"), "Färre svarande"),
    ]


def test_english_comma_file_with_quoted_decimal_comma() -> None:
    parsed = parse_values_csv(b'period,value,note\nVT 2021,"12,5",year 9\nHT 2021,11.0,\n')
    assert parsed.errors == []
    assert [(r.period_start, r.value) for r in parsed.rows] == [
        (date(2021, 1, 1), Decimal("12.5")),
        (date(2021, 8, 1), Decimal("11.0")),
    ]


# --- The service: all or nothing, replace, audit ---------------------------------------------


def _import(personas: Personas, indicator: Indicator, text: str, **kwargs: bool) -> object:
    return indicator_values_import(
        actor=personas.agreement_editor, indicator=indicator, data=text.encode(), **kwargs
    )


def test_malformed_import_stores_nothing(personas: Personas, index_series: Indicator) -> None:
    before = list(IndicatorValue.objects.values_list("period_label", "value"))
    audit_before = AuditEvent.objects.count()
    with pytest.raises(ImportRejectedError) as caught:
        _import(personas, index_series, "period;värde\n2020;2,4\n2021;x\n2022;9\n")
    assert [e.row for e in caught.value.errors] == [3, 4]
    assert list(IndicatorValue.objects.values_list("period_label", "value")) == before
    assert AuditEvent.objects.count() == audit_before


def test_existing_period_needs_replace(personas: Personas, index_series: Indicator) -> None:
    with pytest.raises(ImportRejectedError) as caught:
        _import(personas, index_series, "period,value\n2019,2.0\n2020,2.2\n")
    assert [str(e) for e in caught.value.errors] == [
        "Row 2: period 2019 already has the value 2.7000; choose “replace” to overwrite it"
    ]
    assert not IndicatorValue.objects.filter(period_label="2020").exists()

    result = _import(personas, index_series, "period,value\n2019,2.0\n2020,2.2\n", replace=True)
    assert (result.created, result.replaced) == (1, 1)  # type: ignore[attr-defined]
    values = dict(index_series.values.values_list("period_label", "value"))
    assert values == {"2018": Decimal("2.9"), "2019": Decimal("2.0"), "2020": Decimal("2.2")}
    event = AuditEvent.objects.filter(action="indicator.values_imported").get()
    assert event.object_id == str(index_series.pk)
    assert event.details == {
        "rows": 2,
        "created": 1,
        "replaced": 1,
        "replace": True,
        "changed_periods": ["2019"],
    }
    assert event.actor_id == personas.agreement_editor.pk


def test_a_replacing_import_keeps_what_it_overwrote(
    personas: Personas, index_series: Indicator
) -> None:
    _import(personas, index_series, "period;värde;anteckning\n2019;2,7;Oförändrad\n", replace=True)
    # The note changed (from none), so the value as it stood is kept.
    first = IndicatorValueHistory.objects.get()
    assert (first.period_label, first.value, first.note) == ("2019", Decimal("2.7"), "")
    _import(personas, index_series, "period;värde\nVT 2019;2,1\n2018;2,9\n", replace=True)
    kept = list(
        IndicatorValueHistory.objects.order_by("pk").values_list("period_label", "value", "note")
    )
    assert kept == [
        ("2019", Decimal("2.7"), ""),
        ("2019", Decimal("2.7"), "Oförändrad"),
    ]  # 2018 was imported unchanged: nothing to keep
    latest = IndicatorValueHistory.objects.order_by("pk").last()
    assert latest is not None
    assert latest.replaced_by_id == personas.agreement_editor.pk
    assert latest.indicator_value.period_label == "VT 2019"
    assert latest.indicator_value.display_value == Decimal("2.1")
    event = AuditEvent.objects.filter(action="indicator.values_imported").order_by("id").last()
    assert event is not None
    assert event.details["changed_periods"] == ["2019"]
    assert event.details["replaced"] == 2


def test_a_refused_import_keeps_no_history(personas: Personas, index_series: Indicator) -> None:
    with pytest.raises(ImportRejectedError):
        _import(personas, index_series, "period;värde\n2019;1\n2020;x\n", replace=True)
    assert not IndicatorValueHistory.objects.exists()
    assert index_series.values.get(period_label="2019").value == Decimal("2.7")


def test_only_the_municipalitys_editors_import(personas: Personas, index_series: Indicator) -> None:
    for user in (personas.council_member, personas.outsider, personas.admin):
        with pytest.raises(PermissionDenied):
            indicator_values_import(
                actor=user, indicator=index_series, data=b"period,value\n2020,1\n"
            )
