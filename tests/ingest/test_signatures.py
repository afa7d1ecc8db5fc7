"""Standard Webhooks and Grafana signatures: what is accepted, and how each refusal is told."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from tocsin.errors import InvalidInput, NotAuthenticated
from tocsin.ingest import signatures
from tocsin.ingest.errors import SignatureExpired, SignatureInvalid, SignatureMissing
from tocsin.ingest.formats import FORMATS, signed
from tocsin.ingest.formats.grafana import verify_signature

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"o" * 32).decode()
BODY = b'{"title": "Disk almost full on web-1", "severity": "warning"}'


def _signed(at: datetime = NOW, secret: str = SECRET, msg_id: str = "msg_2b9kQ") -> dict[str, str]:
    return signatures.sign(BODY, secret, msg_id=msg_id, timestamp=at)


def test_a_valid_signature_returns_the_delivery_id_for_replay_tracking() -> None:
    delivery = signatures.verify(_signed(), BODY, SECRET, NOW)
    assert delivery == signatures.SignedDelivery(id="msg_2b9kQ", timestamp=NOW)


def test_what_the_reference_library_signs_verifies() -> None:
    reference = Webhook(SECRET).sign("msg_ref", NOW, BODY.decode())
    headers = {
        "webhook-id": "msg_ref",
        "webhook-timestamp": str(int(NOW.timestamp())),
        "webhook-signature": reference,
    }
    assert signatures.verify(headers, BODY, SECRET, NOW).id == "msg_ref"


def test_header_names_are_case_insensitive() -> None:
    headers = {name.upper(): value for name, value in _signed().items()}
    assert signatures.verify(headers, BODY, SECRET, NOW).id == "msg_2b9kQ"


def test_a_wrong_secret_is_an_invalid_signature() -> None:
    with pytest.raises(SignatureInvalid):
        signatures.verify(_signed(secret=OTHER_SECRET), BODY, SECRET, NOW)


def test_a_changed_body_is_an_invalid_signature() -> None:
    with pytest.raises(SignatureInvalid):
        signatures.verify(_signed(), BODY.replace(b"warning", b"info"), SECRET, NOW)


def test_a_changed_timestamp_header_breaks_the_signature() -> None:
    headers = _signed(at=NOW - timedelta(hours=1))
    headers["webhook-timestamp"] = str(int(NOW.timestamp()))
    with pytest.raises(SignatureInvalid):
        signatures.verify(headers, BODY, SECRET, NOW)


@pytest.mark.parametrize("seconds", [-300, 300])
def test_the_tolerance_is_300_seconds_either_way(seconds: int) -> None:
    at = NOW + timedelta(seconds=seconds)
    assert signatures.verify(_signed(at=at), BODY, SECRET, NOW).timestamp == at


def test_a_signature_older_than_the_tolerance_has_expired() -> None:
    with pytest.raises(SignatureExpired, match="301 s old"):
        signatures.verify(_signed(at=NOW - timedelta(seconds=301)), BODY, SECRET, NOW)


def test_a_signature_from_the_future_is_refused() -> None:
    with pytest.raises(SignatureExpired, match="301 s in the future"):
        signatures.verify(_signed(at=NOW + timedelta(seconds=301)), BODY, SECRET, NOW)


def test_an_expired_but_forged_signature_is_reported_as_invalid_not_expired() -> None:
    headers = _signed(at=NOW - timedelta(hours=2), secret=OTHER_SECRET)
    with pytest.raises(SignatureInvalid) as raised:
        signatures.verify(headers, BODY, SECRET, NOW)
    assert not isinstance(raised.value, SignatureExpired)


def test_any_of_several_signatures_may_match_during_rotation() -> None:
    old = _signed(secret=OTHER_SECRET)["webhook-signature"]
    headers = _signed()
    current = headers["webhook-signature"]
    headers["webhook-signature"] = f"v1a,c2lnbmVk {old} v1,not-base64!! {current}"
    assert signatures.verify(headers, BODY, SECRET, NOW).id == "msg_2b9kQ"


def test_only_unknown_versions_match_nothing() -> None:
    headers = _signed()
    headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v2,")
    with pytest.raises(SignatureInvalid):
        signatures.verify(headers, BODY, SECRET, NOW)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_a_missing_signature(missing: str) -> None:
    headers = _signed()
    del headers[missing]
    with pytest.raises(SignatureMissing):
        signatures.verify(headers, BODY, SECRET, NOW)


@pytest.mark.parametrize("stamp", ["1767603600.5", "-1767603600", "1e9", "9" * 40])
def test_a_timestamp_that_is_not_whole_seconds_is_invalid(stamp: str) -> None:
    headers = _signed()
    headers["webhook-timestamp"] = stamp
    with pytest.raises(SignatureInvalid):
        signatures.verify(headers, BODY, SECRET, NOW)


@pytest.mark.parametrize("stamp", ["999999999999", "253402300800", "0"])
def test_a_valid_signature_with_a_timestamp_beyond_any_datetime_has_expired(stamp: str) -> None:
    """The year 33658 (and 10000) is no ``datetime``: compared as a number, not built."""
    key = signatures.decode_secret(SECRET)
    mac = hmac.new(key, f"msg_1.{stamp}.".encode() + BODY, hashlib.sha256).digest()
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }
    with pytest.raises(SignatureExpired):
        signatures.verify(headers, BODY, SECRET, NOW)


def test_signature_errors_are_401s() -> None:
    assert issubclass(SignatureMissing, NotAuthenticated)
    assert issubclass(SignatureExpired, SignatureInvalid)
    assert issubclass(SignatureInvalid, NotAuthenticated)


@pytest.mark.parametrize(
    "secret", ["whsec_not base64", "whsec_" + base64.b64encode(b"short").decode()]
)
def test_a_secret_that_is_not_a_standard_webhooks_secret_is_invalid_input(secret: str) -> None:
    with pytest.raises(InvalidInput):
        signatures.decode_secret(secret)


def test_a_secret_without_the_prefix_is_accepted() -> None:
    assert signatures.decode_secret(SECRET.removeprefix("whsec_")) == b"k" * 32


def test_the_generic_format_verifies_standard_webhooks() -> None:
    generic = signed(FORMATS["generic"])
    assert generic is not None
    assert generic.verify(_signed(), BODY, SECRET, NOW) == "msg_2b9kQ"


def test_only_sources_that_can_sign_have_a_verifier() -> None:
    assert {name for name, format_ in FORMATS.items() if signed(format_)} == {"generic", "grafana"}


GRAFANA_SECRET = "grafana-shared-secret"


def _grafana(signed_text: bytes) -> str:
    return hmac.new(GRAFANA_SECRET.encode(), signed_text, hashlib.sha256).hexdigest()


def test_grafana_signs_timestamp_colon_body_and_the_signature_is_the_replay_id() -> None:
    stamp = str(int(NOW.timestamp()))
    signature = _grafana(f"{stamp}:".encode() + BODY)
    headers = {"X-Grafana-Alerting-Signature": signature, "X-Grafana-Alerting-Timestamp": stamp}
    assert verify_signature(headers, BODY, GRAFANA_SECRET, NOW) == signature


def test_grafana_without_a_timestamp_signs_the_body_and_gives_no_replay_id() -> None:
    headers = {"x-grafana-alerting-signature": _grafana(BODY).upper()}
    grafana = signed(FORMATS["grafana"])
    assert grafana is not None
    assert grafana.verify(headers, BODY, GRAFANA_SECRET, NOW) is None


def test_grafana_with_a_wrong_secret_is_invalid() -> None:
    headers = {"X-Grafana-Alerting-Signature": _grafana(BODY)}
    with pytest.raises(SignatureInvalid):
        verify_signature(headers, BODY, "another-secret", NOW)


def test_grafana_with_a_timestamp_removed_no_longer_matches() -> None:
    stamp = str(int(NOW.timestamp()))
    headers = {"X-Grafana-Alerting-Signature": _grafana(f"{stamp}:".encode() + BODY)}
    with pytest.raises(SignatureInvalid):
        verify_signature(headers, BODY, GRAFANA_SECRET, NOW)


@pytest.mark.parametrize("seconds", [-301, 301])
def test_grafana_timestamps_outside_the_tolerance_are_refused(seconds: int) -> None:
    stamp = str(int(NOW.timestamp()) + seconds)
    headers = {
        "X-Grafana-Alerting-Signature": _grafana(f"{stamp}:".encode() + BODY),
        "X-Grafana-Alerting-Timestamp": stamp,
    }
    with pytest.raises(SignatureExpired):
        verify_signature(headers, BODY, GRAFANA_SECRET, NOW)


def test_grafana_without_the_signature_header_is_missing_a_signature() -> None:
    with pytest.raises(SignatureMissing):
        verify_signature({"X-Grafana-Alerting-Timestamp": "1767603600"}, BODY, GRAFANA_SECRET, NOW)


def test_grafana_signature_with_non_ascii_text_is_invalid_not_a_crash() -> None:
    with pytest.raises(SignatureInvalid):
        verify_signature({"X-Grafana-Alerting-Signature": "é" * 64}, BODY, GRAFANA_SECRET, NOW)


@pytest.mark.parametrize(
    ("stamp", "refusal"), [("999999999999", SignatureExpired), ("9" * 13, SignatureInvalid)]
)
def test_grafana_timestamps_beyond_any_datetime_are_refused_not_a_crash(
    stamp: str, refusal: type[SignatureInvalid]
) -> None:
    headers = {
        "X-Grafana-Alerting-Signature": _grafana(f"{stamp}:".encode() + BODY),
        "X-Grafana-Alerting-Timestamp": stamp,
    }
    with pytest.raises(refusal):
        verify_signature(headers, BODY, GRAFANA_SECRET, NOW)


def test_grafana_reads_the_timestamp_header_name_grafanas_provisioning_examples_use() -> None:
    stamp = str(int(NOW.timestamp()))
    signature = _grafana(f"{stamp}:".encode() + BODY)
    headers = {
        "X-Grafana-Alerting-Signature": signature,
        "X-Grafana-Alerting-Signature-Timestamp": stamp,
    }
    assert verify_signature(headers, BODY, GRAFANA_SECRET, NOW) == signature


def test_grafana_timestamp_under_the_other_name_is_checked_for_age_too() -> None:
    stamp = str(int(NOW.timestamp()) - 301)
    headers = {
        "X-Grafana-Alerting-Signature": _grafana(f"{stamp}:".encode() + BODY),
        "X-Grafana-Alerting-Signature-Timestamp": stamp,
    }
    with pytest.raises(SignatureExpired, match="X-Grafana-Alerting-Signature-Timestamp"):
        verify_signature(headers, BODY, GRAFANA_SECRET, NOW)


def test_grafana_timestamp_under_an_unread_name_is_named_in_the_refusal() -> None:
    stamp = str(int(NOW.timestamp()))
    headers = {
        "X-Grafana-Alerting-Signature": _grafana(f"{stamp}:".encode() + BODY),
        "X-My-Timestamp": stamp,
    }
    with pytest.raises(SignatureInvalid) as refused:
        verify_signature(headers, BODY, GRAFANA_SECRET, NOW)
    assert "X-My-Timestamp" in refused.value.detail
    assert "timestamp header" in refused.value.detail
    assert "does not match the body" not in refused.value.detail


def test_grafana_signature_refused_without_any_timestamp_header_says_none_arrived() -> None:
    stamp = str(int(NOW.timestamp()))
    headers = {"X-Grafana-Alerting-Signature": _grafana(f"{stamp}:".encode() + BODY)}
    with pytest.raises(SignatureInvalid) as refused:
        verify_signature(headers, BODY, GRAFANA_SECRET, NOW)
    assert "no timestamp header" in refused.value.detail
    assert "X-Grafana-Alerting-Signature-Timestamp" in refused.value.detail


def test_grafana_signature_refused_with_a_timestamp_header_names_it() -> None:
    stamp = str(int(NOW.timestamp()))
    headers = {
        "X-Grafana-Alerting-Signature": _grafana(f"{stamp}:".encode() + BODY),
        "X-Grafana-Alerting-Timestamp": stamp,
    }
    with pytest.raises(SignatureInvalid, match="does not match X-Grafana-Alerting-Timestamp"):
        verify_signature(headers, BODY, "another-secret", NOW)
