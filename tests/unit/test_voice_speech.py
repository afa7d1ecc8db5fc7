"""What a call says: words a speech engine reads well, a menu, a code digit by digit."""

from __future__ import annotations

from tocsin.notify.channels.voice import speech

DISK = speech.Incident(
    number=1234,
    title="[FIRING:1] DiskFull db-1 /var/lib/postgresql https://grafana.example/d/abc?x=1",
    service="payments_api",
    severity="critical",
    status="triggered",
)


def test_a_page_says_who_it_is_for_its_number_priority_service_and_title_in_words() -> None:
    assert speech.page(DISK, name="Ada Lovelace", level=1) == (
        "Hello Ada Lovelace. This is tocsin, with a critical priority page. Incident 1234, "
        "on payments api: FIRING:1 DiskFull db-1 var lib postgresql link."
    )


def test_an_escalation_says_its_level() -> None:
    assert "This is tocsin, escalation level 3, with" in speech.page(DISK, name="Ada", level=3)


def test_a_long_title_is_cut_to_thirty_words() -> None:
    long = speech.spoken(" ".join(f"word{i}" for i in range(50)))
    assert long.split()[-3:] == ["word29", "and", "more"]


def test_a_code_is_read_digit_by_digit_twice() -> None:
    assert speech.verification("417209") == (
        "Your tocsin code is 4, 1, 7, 2, 0, 9. Again, your code is 4, 1, 7, 2, 0, 9. Goodbye."
    )


def test_a_settled_incident_says_by_whom_instead_of_the_menu() -> None:
    acknowledged = speech.Incident(
        number=7,
        title="x",
        service="s",
        severity="error",
        status="acknowledged",
        acknowledged_by="Bob",
    )
    assert speech.settled(acknowledged) == "Incident 7 is already acknowledged by Bob. Goodbye."
    resolved = speech.Incident(
        number=7, title="x", service="s", severity="error", status="resolved", resolved_by="Bob"
    )
    assert speech.settled(resolved) == "Incident 7 is already resolved by Bob. Goodbye."


def test_the_keypad() -> None:
    assert speech.KEYS == {
        "1": speech.ACKNOWLEDGE,
        "2": speech.RESOLVE,
        "3": speech.REPEAT,
        "9": speech.ESCALATE,
    }
    assert speech.done(speech.RESOLVE, [3, 4]) == "2 incidents resolved. Goodbye."
