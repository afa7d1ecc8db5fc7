"""Every example of every format, compared with its golden output.

An example is ``src/tocsin/ingest/examples/<format>/<case>.json``: a body as the source
sends it, one behaviour per file. When the behaviour depends on the request line (a
PagerDuty change event, an Opsgenie close), ``<case>.http.json`` beside it gives the
``path`` and ``query``. The golden, ``tests/ingest/golden/<format>/<case>.json``, holds
the alerts as JSON, the change event, the reason an event is ignored, or for a malformed
body the problem (type slug, title, detail, field and every field error).

Generated keys come from a counter, so the goldens are deterministic.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import pytest

from tocsin.ingest.errors import MalformedPayload, UnsupportedEvent
from tocsin.ingest.formats import FORMATS, registry
from tocsin.ingest.formats.opsgenie import Opsgenie, OpsgenieAction
from tocsin.ingest.formats.pagerduty_events_v2 import PagerDutyEventsV2

EXAMPLES = files("tocsin.ingest") / "examples"
GOLDEN = Path(__file__).parent / "golden"
RECEIVED_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
MIN_EXAMPLES_PER_FORMAT = 4
_OPSGENIE_ACTION = re.compile(r"/v2/alerts/(?P<identifier>[^/]+)/(?P<action>acknowledge|close)")


def _cases() -> list[tuple[str, str]]:
    return sorted(
        (folder.name, entry.name.removesuffix(".json"))
        for folder in EXAMPLES.iterdir()
        if folder.is_dir()
        for entry in folder.iterdir()
        if entry.name.endswith(".json") and not entry.name.endswith(".http.json")
    )


def _example(name: str, case: str) -> Traversable:
    return EXAMPLES / name / f"{case}.json"


def _request(name: str, case: str) -> dict[str, Any]:
    sidecar = EXAMPLES / name / f"{case}.http.json"
    return json.loads(sidecar.read_text()) if sidecar.is_file() else {}


def _parse_and_map(name: str, body: bytes, request: dict[str, Any]) -> dict[str, Any]:
    counter = itertools.count(1)
    format_ = registry(new_key=lambda: f"generated-key-{next(counter)}")[name]
    path: str = request.get("path", "")
    query: dict[str, str] = request.get("query", {})
    if isinstance(format_, PagerDutyEventsV2) and path.endswith("/change/enqueue"):
        change = format_.parse_change(body, {})
        return {"change_event": format_.to_change_event(change, received_at=RECEIVED_AT).as_json()}
    action = _OPSGENIE_ACTION.fullmatch(path)
    if isinstance(format_, Opsgenie) and action:
        payload: Any = format_.parse_action(
            body,
            {},
            action=OpsgenieAction(action["action"]),
            identifier=action["identifier"],
            identifier_type=query.get("identifierType"),
        )
    else:
        payload = format_.parse(body, {})
    alerts = format_.to_alerts(payload, received_at=RECEIVED_AT)
    return {"alerts": [alert.as_json() for alert in alerts]}


def outcome(name: str, case: str) -> dict[str, Any]:
    """What the format makes of the example: alerts, a change event, a reason or a problem."""
    body = _example(name, case).read_bytes()
    try:
        return _parse_and_map(name, body, _request(name, case))
    except MalformedPayload as error:
        problem = {"type": error.code, "title": error.title, "detail": error.detail}
        return {"problem": {**problem, **error.extensions}}
    except UnsupportedEvent as error:
        return {"unsupported": error.reason}


def _render(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize(("name", "case"), _cases(), ids=[f"{n}/{c}" for n, c in _cases()])
def test_example_matches_its_golden(name: str, case: str, update_golden: bool) -> None:
    golden = GOLDEN / name / f"{case}.json"
    rendered = _render(outcome(name, case))
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered)
        return
    assert golden.is_file(), f"no golden for {name}/{case}: run pytest tests/ingest --update-golden"
    assert rendered == golden.read_text()


def test_every_format_ships_examples_and_nothing_else_does() -> None:
    counts = {name: 0 for name in FORMATS}
    for name, _ in _cases():
        assert name in counts, f"examples/{name} is not a registered format"
        counts[name] += 1
    assert {name: n for name, n in counts.items() if n < MIN_EXAMPLES_PER_FORMAT} == {}


def test_every_golden_has_its_example() -> None:
    examples = {f"{name}/{case}" for name, case in _cases()}
    goldens = {f"{path.parent.name}/{path.stem}" for path in GOLDEN.glob("*/*.json")}
    assert goldens - examples == set(), "remove goldens whose example is gone"
