"""Routing rules, grouping keys and escalation steps: the pure rules of the pipeline."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.domain import escalation, grouping, routing
from tocsin.domain.alerts import AlertAction, InboundAlert, Severity

EU, US, FALLBACK = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def alert(title: str = "Disk full", **labels: str) -> InboundAlert:
    return InboundAlert(
        action=AlertAction.TRIGGER,
        dedup_key="k",
        title=title,
        severity=Severity.ERROR,
        labels=labels,
    )


def rule(service: uuid.UUID, *conditions: tuple[str, str, str]) -> routing.Rule:
    return routing.Rule(
        service,
        tuple(routing.Condition(f, routing.Operator(o), v) for f, o, v in conditions),
    )


def test_the_first_rule_whose_conditions_all_hold_wins() -> None:
    rules = [
        rule(EU, ("labels.region", "equals", "eu"), ("severity", "equals", "critical")),
        rule(US, ("labels.region", "matches", "^(eu|us)$")),
    ]
    assert routing.route(alert(region="eu"), rules, FALLBACK) == (US, 2)


def test_an_alert_matching_no_rule_goes_to_the_fallback() -> None:
    rules = [rule(EU, ("labels.region", "equals", "eu"))]
    assert routing.route(alert(region="ap"), rules, FALLBACK) == (FALLBACK, None)


def test_a_missing_label_never_matches_not_even_an_empty_value() -> None:
    condition = routing.Condition("labels.region", routing.Operator.EQUALS, "")
    assert not routing.matches(alert(), condition)


def test_a_pattern_that_runs_out_of_time_counts_as_not_matching(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(routing, "PATTERN_TIMEOUT", 1e-9)
    condition = routing.Condition("title", routing.Operator.MATCHES, r"^(\w+\s?)*$")
    assert not routing.matches(alert("word " * 5000 + "!"), condition)


@pytest.mark.parametrize(
    ("field", "operator", "value", "problem"),
    [
        ("labels.", "equals", "x", "field must be"),
        ("priority", "equals", "x", "field must be"),
        ("title", "matches", "(", "not a valid regular expression"),
        ("title", "matches", "a" * 501, "at most 500"),
    ],
)
def test_unusable_conditions_are_refused(
    field: str, operator: str, value: str, problem: str
) -> None:
    found = routing.problem_with(routing.Condition(field, routing.Operator(operator), value))
    assert found is not None
    assert problem in found


def test_group_keys_depend_only_on_the_named_fields() -> None:
    fields = ("labels.alertname", "labels.cluster")
    first = grouping.group_key(alert("A", alertname="Disk", cluster="eu-1", pod="x"), fields)
    second = grouping.group_key(alert("B", alertname="Disk", cluster="eu-1", pod="y"), fields)
    other = grouping.group_key(alert("A", alertname="Disk", cluster="us-1"), fields)
    assert first == second != other
    assert grouping.group_key(alert(), ()) is None


POLICY = escalation.PolicySnapshot(
    policy_id=None,
    name="p",
    repeat_count=1,
    levels=(
        escalation.LevelSnapshot(5, (escalation.Target(escalation.TargetKind.USER, EU),)),
        escalation.LevelSnapshot(10, (escalation.Target(escalation.TargetKind.USER, US),)),
    ),
)


def test_levels_then_one_repeat_then_exhausted() -> None:
    progress = escalation.Progress(0, 0)
    seen = []
    while True:
        step = escalation.next_step(POLICY, progress)
        if isinstance(step, escalation.Exhausted):
            break
        seen.append((step.level, step.loop, step.delay))
        progress = escalation.Progress(step.level, step.loop)
    minutes = timedelta(minutes=1)
    assert seen == [
        (1, 0, 5 * minutes),
        (2, 0, 10 * minutes),
        (1, 1, 5 * minutes),
        (2, 1, 10 * minutes),
    ]


@given(
    delay=st.integers(min_value=1, max_value=escalation.MAX_DELAY_MINUTES),
    seconds=st.integers(min_value=0, max_value=10**8),
)
def test_the_next_level_is_due_its_full_wait_after_the_page_or_at_once_if_nobody(
    delay: int, seconds: int
) -> None:
    step = escalation.PageLevel(1, 0, (), timedelta(minutes=delay))
    now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    assert step.next_due(now, paged_anyone=True) - now == timedelta(minutes=delay)
    assert step.next_due(now, paged_anyone=False) == now


def test_escalating_by_hand_to_a_level_outside_the_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="level must be between 1 and 2"):
        escalation.jump_to(POLICY, escalation.Progress(1, 0), 3)


def test_snapshots_survive_a_round_trip_through_json() -> None:
    assert escalation.PolicySnapshot.from_json(POLICY.as_json()) == POLICY
