from __future__ import annotations

from datetime import date

import pytest

from samverkan.lib.personnummer import IdentityNumberError, looks_like_identity_number, parse

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("raw", "digits", "born"),
    [
        ("811228-9874", "198112289874", date(1981, 12, 28)),
        ("8112289874", "198112289874", date(1981, 12, 28)),
        ("198112289874", "198112289874", date(1981, 12, 28)),
        ("19811228-9874", "198112289874", date(1981, 12, 28)),
        (" 811228 - 9874 ", "198112289874", date(1981, 12, 28)),
        ("811228+9874", "188112289874", date(1881, 12, 28)),  # a hundred or older
        ("120315-1236", "201203151236", date(2012, 3, 15)),
        ("701063-2391", "197010632391", date(1970, 10, 3)),  # coordination number: day + 60
    ],
)
def test_valid_numbers_become_twelve_digits(raw, digits, born):
    number = parse(raw, today=TODAY)
    assert number.digits == digits
    assert number.birth_date == born


def test_coordination_number_is_flagged():
    assert parse("701063-2391", today=TODAY).is_coordination_number
    assert not parse("811228-9874", today=TODAY).is_coordination_number


def test_ten_digits_take_the_century_that_puts_the_birth_in_the_past():
    # 27 December 2026 has not happened yet on 27 November 2026: it must be 1926.
    number = parse("261227-1235", today=TODAY)
    assert number.birth_date.year == 1926


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("811228-9875", "check digit"),
        ("811232-9874", "date"),
        ("811328-9874", "date"),
        ("8112289", "10 or 12 digits"),
        ("81122898741", "10 or 12 digits"),
        ("abcdef-ghij", "10 or 12 digits"),
        ("", "10 or 12 digits"),
        ("20301228-9874", "future"),
    ],
)
def test_invalid_numbers_get_a_clear_message_without_the_number(raw, message):
    with pytest.raises(IdentityNumberError) as info:
        parse(raw, today=TODAY)
    assert message in str(info.value)
    assert raw.strip() == "" or raw not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "120315\u20101236",  # hyphen
        "120315\u22121236",  # minus sign
        "120315\u20131236",  # en dash, as word processors write it
        "2012-03-15-1236",
        "12 03 15-1236",
        "120315-12 36",
        "１２０３１５-１２３６",  # full-width digits
    ],
)
def test_number_spellings_are_caught(text):
    assert looks_like_identity_number(text)


def test_ordinary_numbers_pass():
    assert not looks_like_identity_number("Frånvaro 35 % i oktober, 12 dagar av 20.")
    assert not looks_like_identity_number("Möte kl 14.30 i rum 204")
