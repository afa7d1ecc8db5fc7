"""Rules for the values that identify and reach a person: email, time zone, phone number."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from tocsin.errors import InvalidInput

# Zone names accepted by zoneinfo but that are legacy aliases or fixed offsets; a person's
# zone must be a real region so that DST rules follow them ("EST" never observes DST).
_LEGACY_ZONE_PREFIXES = ("Etc/", "SystemV/", "US/", "Canada/", "Mexico/", "Brazil/", "Chile/")
_LEGACY_ZONES = frozenset(
    {
        "EST",
        "MST",
        "HST",
        "EST5EDT",
        "CST6CDT",
        "MST7MDT",
        "PST8PDT",
        "CET",
        "EET",
        "MET",
        "WET",
        "GMT",
        "GMT0",
        "GMT+0",
        "GMT-0",
        "Greenwich",
        "UCT",
        "Universal",
        "Zulu",
    }
)


def normalise_email(value: str, *, field: str = "email") -> str:
    """Lower-cased, syntax-checked address. Emails are unique regardless of case."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidInput(field, str(error)) from error
    return result.normalized.lower()


def validate_time_zone(value: str, *, field: str = "time_zone") -> str:
    """An IANA region zone such as ``Europe/Paris``; ``UTC`` is accepted too."""
    if value == "UTC":
        return value
    if value in _LEGACY_ZONES or value.startswith(_LEGACY_ZONE_PREFIXES):
        raise InvalidInput(field, f"{value!r} is a legacy alias; use a region such as Europe/Paris")
    if value not in _region_zones():
        raise InvalidInput(field, f"{value!r} is not an IANA time zone")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidInput(field, f"{value!r} is not an IANA time zone") from error
    return value


def normalise_phone(value: str, *, field: str = "phone") -> str:
    """A dialable number in E.164 form (``+14155550123``)."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as error:
        raise InvalidInput(field, f"{value!r} is not a phone number in E.164 form") from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(field, f"{value!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_ZONES: frozenset[str] | None = None


def _region_zones() -> frozenset[str]:
    global _ZONES  # noqa: PLW0603 - computed once; available_timezones() walks the disk
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES
