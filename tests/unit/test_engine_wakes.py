"""Which engine lanes a NOTIFY wakes: those its payload names, or all of them."""

from __future__ import annotations

from tocsin.engine.loop import woken_by

LANES = ("reopens", "escalations", "dispatch", "deliveries")


def test_a_payload_wakes_only_the_modules_it_names() -> None:
    assert woken_by("escalations", LANES) == {"escalations"}
    assert woken_by("dispatch,deliveries", LANES) == {"dispatch", "deliveries"}


def test_an_empty_payload_wakes_every_module() -> None:
    assert woken_by("", LANES) == set(LANES)


def test_a_name_no_module_has_wakes_nobody() -> None:
    assert woken_by("heartbeat-v2", LANES) == set()
