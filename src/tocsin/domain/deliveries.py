"""The delivery state machine and the retry schedule.

    queued ──claim──▶ sending ──provider accepted──▶ sent ──provider confirmed──▶ delivered
      ▲  │               │  │                         │
      │  │               │  └─transient error, retries left─▶ queued (next_attempt_at later)
      │  │               ├──permanent error or last retry──▶ failed
      │  │               └──timeout, or lease expired (worker died)──▶ unknown
      │  │                                                            │
      │  ├──incident acknowledged or resolved──▶ cancelled            │
      │  ├──service in maintenance──▶ held ──window ends──▶ queued    │
      │  └──rate limit or bundle──▶ bundled (sent inside a digest)    │
      └────────────── the channel allows a re-send after unknown ─────┘

A sent message can still be reported failed by a provider callback (a bounce, an
undelivered SMS): ``sent ──callback──▶ failed``, and the next tier is released.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    HELD = "held"
    UNKNOWN = "unknown"
    BUNDLED = "bundled"


class Purpose(StrEnum):
    """Why a delivery exists: a page, a digest of pages, a status change of an incident the
    person was paged for, the start of their on-call shift, verifying a contact method, or
    inviting a new person to sign in (a one-time link, by email)."""

    PAGE = "page"
    DIGEST = "digest"
    STATUS = "status"
    SHIFT = "shift"
    VERIFICATION = "verification"
    INVITATION = "invitation"


# Work still to do: acknowledging or resolving cancels these.
PENDING = frozenset(
    {DeliveryStatus.QUEUED, DeliveryStatus.HELD, DeliveryStatus.UNKNOWN, DeliveryStatus.BUNDLED}
)
SUCCEEDED = frozenset({DeliveryStatus.SENT, DeliveryStatus.DELIVERED})
FINAL = frozenset({*SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED})

# The waits before each retry of a transient failure: the first attempt and five retries,
# about ten and a half minutes in all (the original decided "30 s, 1 m, 2 m, 4 m, 3 m").
RETRY_WAITS = (
    timedelta(seconds=30),
    timedelta(minutes=1),
    timedelta(minutes=2),
    timedelta(minutes=4),
    timedelta(minutes=3),
)
MAX_ATTEMPTS = len(RETRY_WAITS) + 1


def retry_wait(attempts: int) -> timedelta | None:
    """The wait after the ``attempts``-th failed attempt, or None when none is left."""
    if attempts < 1 or attempts > len(RETRY_WAITS):
        return None
    return RETRY_WAITS[attempts - 1]


class ErrorCode(StrEnum):
    """Typed reasons a delivery failed, stored on the row and shown in the API."""

    INVALID_ADDRESS = "invalid_address"
    REJECTED = "rejected"
    UNVERIFIED = "unverified"
    NOT_DELIVERABLE = "not_deliverable"
    REVOKED = "revoked"
    PROVIDER_ERROR = "provider_error"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    TIMEOUT = "timeout"
    LEASE_EXPIRED = "lease_expired"
    RETRIES_EXHAUSTED = "retries_exhausted"
    # The person told the provider to stop (an SMS STOP): never sent to again until START.
    OPTED_OUT = "opted_out"
    # A call rang out or reached a voicemail: failed for the tiers, never re-dialled at once.
    NOT_ANSWERED = "not_answered"
    # The provider asked us to slow down (HTTP 429): due again when it said.
    RATE_LIMITED = "rate_limited"


# What a provider call returns. A provider maps its library's exceptions to one of these
# where it calls the library.


@dataclass(frozen=True)
class Sent:
    """The vendor accepted the message (``delivered`` when accepting it is delivery, as
    for the local outbox)."""

    provider_message_id: str
    delivered: bool = False


@dataclass(frozen=True)
class Failed:
    """``permanent`` when retrying cannot help (an invalid address, a revoked token)."""

    code: ErrorCode
    detail: str
    permanent: bool
    # Whether the failure says something about the provider (it counts against its
    # circuit breaker) rather than about this one message (an invalid address).
    provider_fault: bool = True
    # When the provider said when to come back (Slack's or a push service's 429 with
    # Retry-After): the retry is due then rather than on the fixed schedule.
    retry_after: timedelta | None = None
    # The failure says the contact method itself is gone (a revoked Slack token, a push
    # subscription answered 410, an SMS opt-out): it is disabled, with this failure as the
    # reason, and its owner is warned, instead of failing every later page on it too.
    disables_method: bool = False


@dataclass(frozen=True)
class Unknown:
    """The call timed out or the connection dropped after the message may have been
    accepted."""

    reason: str


Outcome = Sent | Failed | Unknown


class Check(StrEnum):
    """What the checks before an attempt decided (``before_sending``)."""

    SEND = "send"
    CANCEL = "cancel"
    HOLD = "hold"
    FAIL = "fail"


@dataclass(frozen=True)
class Verdict:
    check: Check
    # HOLD: until when (the end of the service's maintenance).
    until: datetime | None = None
    # FAIL: why, permanently.
    error: ErrorCode | None = None
    detail: str = ""


def before_sending(
    purpose: Purpose,
    *,
    kind: str,
    incident_triggered: bool,
    maintenance_until: datetime | None,
    digest_members: int,
    method_usable: bool,
    method_verified: bool,
    deliverable: bool,
) -> Verdict:
    """The checks made in the transaction that claims an attempt, in order: a page of an
    incident no longer triggered is cancelled, one whose service is in maintenance is held
    until the window ends, a digest with nothing left to carry is cancelled; a method that
    is gone, disabled or unverified (verification messages excepted) or a kind with no
    provider fails at once, since no retry could help."""
    if purpose is Purpose.PAGE:
        if not incident_triggered:
            return Verdict(Check.CANCEL)
        if maintenance_until is not None:
            return Verdict(Check.HOLD, until=maintenance_until)
    elif purpose is Purpose.DIGEST and digest_members == 0:
        return Verdict(Check.CANCEL)
    if not method_usable:
        return Verdict(
            Check.FAIL,
            error=ErrorCode.UNVERIFIED,
            detail="the contact method was removed or disabled",
        )
    if not method_verified and purpose is not Purpose.VERIFICATION:
        return Verdict(
            Check.FAIL, error=ErrorCode.UNVERIFIED, detail="the contact method is not verified"
        )
    if not deliverable:
        return Verdict(
            Check.FAIL, error=ErrorCode.NOT_DELIVERABLE, detail=f"no {kind} provider is configured"
        )
    return Verdict(Check.SEND)


# A provider's ``Retry-After`` (seconds, as every push service, Slack and Teams send it):
# honoured between a second and an hour; anything else waits the default.
DEFAULT_RETRY_AFTER = timedelta(seconds=30)


def retry_after(value: object) -> timedelta:
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or len(text) > 6:
        return DEFAULT_RETRY_AFTER
    return timedelta(seconds=min(max(int(text), 1), 3600))
