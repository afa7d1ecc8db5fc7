"""Response bodies of deliveries: what became of each page on each channel."""

from __future__ import annotations

import uuid
from datetime import datetime

from tocsin.api.schemas.common import ResponseBody
from tocsin.domain.channels import ChannelKind
from tocsin.domain.deliveries import DeliveryStatus, Purpose


class DeliveryRead(ResponseBody):
    id: uuid.UUID
    purpose: Purpose
    page_id: uuid.UUID | None
    user_id: uuid.UUID
    contact_method_id: uuid.UUID | None
    kind: ChannelKind
    tier: int
    status: DeliveryStatus
    digest_id: uuid.UUID | None
    attempts: int
    next_attempt_at: datetime | None
    provider: str | None
    provider_message_id: str | None
    error_code: str | None
    error_detail: str | None
    created_at: datetime
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    cancelled_at: datetime | None
