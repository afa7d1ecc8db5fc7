"""A browser's push subscription, made a contact method of the signed-in person who made
it: one per device, named by its browser and system, verified by having been made in
their session (a push subscription cannot be typed in by someone else)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tocsin.actions.actors import Actor
from tocsin.actions.identity import contact_methods
from tocsin.db.models.contact_methods import ContactMethod
from tocsin.domain.addresses import outbound_url
from tocsin.domain.channels import ChannelKind
from tocsin.errors import InvalidInput


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


def _key(value: str, *, field: str, length: int) -> str:
    text = value.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise InvalidInput(field, "not base64url") from error
    if len(raw) != length or (length == 65 and raw[0] != 4):
        raise InvalidInput(field, f"not a {'P-256 public key' if length == 65 else 'secret'}")
    return text.rstrip("=")


def parse(form: dict[str, str], *, allow_private: bool) -> Subscription:
    """What ``PushSubscription.toJSON()`` gave the page: the push service's endpoint (a
    URL tocsin will post to, so checked like any outbound address), and the keys the
    payload is encrypted to (a P-256 point and a 16-byte secret)."""
    return Subscription(
        endpoint=outbound_url(
            form.get("endpoint", ""),
            field="endpoint",
            what="a push service endpoint",
            allow_private=allow_private,
        ),
        p256dh=_key(form.get("p256dh", ""), field="p256dh", length=65),
        auth=_key(form.get("auth", ""), field="auth", length=16),
    )


_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Mac OS X", "macOS"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def device_name(user_agent: str) -> str:
    """``Chrome on Android``: how the person tells their devices apart in the list."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "Browser")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    return f"{browser} on {system}" if system else browser


def label(given: str, user_agent: str) -> str:
    cleaned = re.sub(r"\s+", " ", given).strip()[:60]
    return cleaned or device_name(user_agent)


async def subscribe(
    session: AsyncSession,
    *,
    actor: Actor,
    subscription: Subscription,
    device: str,
    now: datetime,
) -> ContactMethod:
    assert actor.user_id is not None
    return await contact_methods.connect(
        session,
        actor=actor,
        user_id=actor.user_id,
        kind=ChannelKind.PUSH,
        address=subscription.endpoint,
        label=device,
        details={"p256dh": subscription.p256dh, "auth": subscription.auth},
        now=now,
    )
