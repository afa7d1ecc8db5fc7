from __future__ import annotations

import pytest

from tocsin.domain.identity import normalise_email, normalise_phone, validate_time_zone
from tocsin.errors import InvalidInput


def test_emails_are_lower_cased_and_checked() -> None:
    assert normalise_email("  Ada.Lovelace@Example.ORG ") == "ada.lovelace@example.org"
    with pytest.raises(InvalidInput) as error:
        normalise_email("ada@", field="contact")
    assert error.value.field == "contact"


@pytest.mark.parametrize(
    "zone", ["UTC", "Europe/Paris", "Australia/Lord_Howe", "America/Argentina/Buenos_Aires"]
)
def test_region_zones_are_accepted(zone: str) -> None:
    assert validate_time_zone(zone) == zone


@pytest.mark.parametrize(
    "zone", ["EST", "US/Eastern", "Etc/GMT+5", "Mars/Olympus", "", "../../etc/passwd"]
)
def test_legacy_and_unknown_zones_are_refused(zone: str) -> None:
    with pytest.raises(InvalidInput):
        validate_time_zone(zone)


def test_phone_numbers_become_e164() -> None:
    assert normalise_phone("+44 20 7183 8750") == "+442071838750"
    for bad in ["020 7183 8750", "+1 555", "call me"]:
        with pytest.raises(InvalidInput):
            normalise_phone(bad)
