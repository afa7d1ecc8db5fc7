"""A scripted email provider, for timing rules that a real server cannot show (a fixed
number of failures, a permanent refusal). Strict like the SMTP fake: it records every
message, and a test asserts on all of them."""

from __future__ import annotations

from collections import deque

from tocsin.domain.deliveries import ErrorCode, Failed, Outcome, Sent
from tocsin.notify.channels.email.channel import OutgoingEmail


class ScriptedEmail:
    def __init__(self, name: str = "scripted", *outcomes: Outcome) -> None:
        self.name = name
        self.script: deque[Outcome] = deque(outcomes)
        self.calls: list[OutgoingEmail] = []

    async def send(self, email: OutgoingEmail, *, time_limit: float) -> Outcome:
        self.calls.append(email)
        if self.script:
            return self.script.popleft()
        return Sent(provider_message_id=email.message_id)


def transient(detail: str = "421 try later") -> Failed:
    return Failed(ErrorCode.PROVIDER_ERROR, detail, permanent=False)


def permanent(detail: str = "550 no such mailbox") -> Failed:
    return Failed(ErrorCode.INVALID_ADDRESS, detail, permanent=True, provider_fault=False)
