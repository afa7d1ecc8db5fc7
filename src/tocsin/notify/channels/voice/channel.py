"""The voice channel: a page is a phone call; the keypad acts on it (``routes.py``).

* **sent**: the provider placed the call (Twilio: 201 with a call sid).
* **delivered**: a person answered (Twilio asked tocsin what to say, with ``AnsweredBy``
  human or unknown).
* **failed**, ``not_answered``: busy, no answer, or an answering machine (a short voicemail
  is left). It counts as failed for the tiers, and the call is not placed again: the rate
  limit (one call a minute per number) and the next escalation level decide what follows.
* **unknown**: no answer from the provider in time. A call is never placed twice on a
  guess (``resend_after_unknown`` is False): the delivery waits for the call's status
  callback, which names the delivery, so a call that was placed after all still settles it.

What the call says is not in the message: the provider asks tocsin when the call is
answered (``/twilio/voice/answer``), and tocsin reads the incident as it is then: a page
acknowledged meanwhile is not read out as if it were still open.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from tocsin.domain.channels import ChannelKind
from tocsin.domain.notices import Notice
from tocsin.notify.channels.base import Provider


@dataclass(frozen=True)
class Call:
    to: str
    delivery_id: uuid.UUID


class VoiceChannel:
    kind = ChannelKind.VOICE
    intrusive = True
    supports_interactivity = True
    resend_after_unknown = False

    def __init__(self, providers: Sequence[Provider[Call]]) -> None:
        self._providers = list(providers)

    @property
    def providers(self) -> Sequence[Provider[Call]]:
        return self._providers

    def render(self, notice: Notice) -> Call:
        return Call(to=notice.recipient.address, delivery_id=notice.delivery_id)
