"""Standard Webhooks signatures (protocols.md §1.7): verify what generic senders sign.

A signed request carries three headers:

    webhook-id         the delivery's id, stable across the sender's retries
    webhook-timestamp  Unix seconds when this attempt was signed
    webhook-signature  space-separated ``v1,<base64>`` entries (several during rotation)

and each ``v1`` signature is base64(HMAC-SHA256(key, ``{id}.{timestamp}.{raw body}``)),
where the key is the base64 part of the ``whsec_…`` secret. The timestamp is inside the
signed text, so a replay cannot refresh it (the original checked a timestamp header that
nothing signed, defect G31). A request is accepted only if one entry matches and the
timestamp is within ``TOLERANCE`` of ``now``, either way.

Replay protection beyond the window is stateful and belongs to the pipeline: it remembers
``SignedDelivery.id`` for at least the tolerance and refuses an id it has seen.

Why not the ``standardwebhooks`` package: its ``verify`` reads the wall clock inside a
private method (tocsin injects ``now`` everywhere), decodes the body as text, and raises
one exception type for a missing header, a bad signature and a stale timestamp, which
tocsin answers differently. The tests use it as an oracle: what it signs, this verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tocsin.errors import InvalidInput
from tocsin.ingest import headers as header
from tocsin.ingest.errors import SignatureExpired, SignatureInvalid, SignatureMissing

TOLERANCE = timedelta(seconds=300)
SECRET_PREFIX = "whsec_"  # noqa: S105 - the scheme's marker, not a secret
# The spec asks for 24 to 64 random bytes.
SECRET_MIN_BYTES = 24
SECRET_MAX_BYTES = 64

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


@dataclass(frozen=True)
class SignedDelivery:
    """A verified delivery: ``id`` for replay tracking, ``timestamp`` as signed."""

    id: str
    timestamp: datetime


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret; ``InvalidInput`` when it is not one."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidInput("secret", "the secret is not whsec_ followed by base64") from error
    if not SECRET_MIN_BYTES <= len(key) <= SECRET_MAX_BYTES:
        raise InvalidInput(
            "secret", f"the secret must decode to {SECRET_MIN_BYTES} to {SECRET_MAX_BYTES} bytes"
        )
    return key


def delivery_id(headers: Mapping[str, str]) -> str | None:
    """The ``webhook-id`` header, read without verifying anything (for logs)."""
    return header.get(headers, ID_HEADER)


def _signature(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    return hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()


def sign(body: bytes, secret: str, *, msg_id: str, timestamp: datetime) -> dict[str, str]:
    """The three headers a sender attaches to ``body`` (tests, and tocsin's own senders)."""
    stamp = str(int(timestamp.timestamp()))
    digest = _signature(decode_secret(secret), msg_id, stamp, body)
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: "v1," + base64.b64encode(digest).decode("ascii"),
    }


def _candidates(signatures: str) -> list[bytes]:
    """The decoded ``v1`` entries; other versions (``v1a`` is asymmetric) and junk are skipped."""
    found: list[bytes] = []
    for entry in signatures.split(" "):
        version, comma, encoded = entry.partition(",")
        if version != "v1" or not comma:
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    now: datetime,
    *,
    tolerance: timedelta = TOLERANCE,
) -> SignedDelivery:
    """Check a Standard Webhooks signature over the raw ``body``; return the delivery.

    Raises ``SignatureMissing`` without the three headers, ``SignatureInvalid`` when no
    entry matches, and ``SignatureExpired`` when a matching signature is older or newer
    than ``tolerance`` around ``now``. The signature is checked before the timestamp, so
    only an authentic sender learns that its clock is off.
    """
    msg_id = header.get(headers, ID_HEADER)
    stamp = header.get(headers, TIMESTAMP_HEADER)
    signatures = header.get(headers, SIGNATURE_HEADER)
    if not (msg_id and stamp and signatures):
        raise SignatureMissing(
            f"send the {ID_HEADER}, {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers"
        )
    seconds = unix_seconds(stamp, TIMESTAMP_HEADER)
    expected = _signature(decode_secret(secret), msg_id, stamp, body)
    # compare_digest against every entry, without stopping early on a match.
    matches = [hmac.compare_digest(expected, candidate) for candidate in _candidates(signatures)]
    if not any(matches):
        raise SignatureInvalid("no signature in webhook-signature matches the body")
    return SignedDelivery(
        id=msg_id, timestamp=within_tolerance(seconds, now, tolerance, TIMESTAMP_HEADER)
    )


def unix_seconds(stamp: str, header_name: str) -> int:
    """A signature's timestamp header as whole Unix seconds; ``SignatureInvalid`` if it is
    anything else."""
    # Twelve digits reach the year 33658; longer is junk (and int() of thousands of
    # digits raises).
    text = stamp.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise SignatureInvalid(f"{header_name} must be whole Unix seconds")
    return int(text)


def within_tolerance(
    seconds: int, now: datetime, tolerance: timedelta, header_name: str
) -> datetime:
    """The instant a signature was made, if within ``tolerance`` of ``now`` either way;
    else ``SignatureExpired`` saying by how much.

    Compared as numbers before any ``datetime`` is made: a timestamp far enough from now
    is no ``datetime`` at all (the year 33658), and must be refused, not crash.
    """
    skew = seconds - now.timestamp()
    if abs(skew) > tolerance.total_seconds():
        when = "in the future" if skew > 0 else "old"
        raise SignatureExpired(
            f"the {header_name} is {abs(int(skew))} s {when}; "
            f"the tolerance is {int(tolerance.total_seconds())} s"
        )
    return datetime.fromtimestamp(seconds, tz=UTC)
