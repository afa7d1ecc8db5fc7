from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from tocsin.api.schemas.common import RequestBody, ResponseBody


class UserRead(ResponseBody):
    id: uuid.UUID
    email: str
    name: str
    time_zone: str
    phone: str | None
    is_platform_admin: bool
    is_active: bool
    created_at: datetime
    updated_at: datetime
    deactivated_at: datetime | None


class UserCreate(RequestBody):
    email: str = Field(max_length=320, examples=["alice@example.com"])
    name: str = Field(min_length=1, max_length=200)
    time_zone: str = Field(default="UTC", max_length=64, examples=["Europe/Paris"])
    phone: str | None = Field(default=None, max_length=32, examples=["+14155550123"])
    password: str | None = Field(default=None, min_length=12, max_length=1024)
    is_platform_admin: bool = False
    invite: bool = Field(
        default=True,
        description="Mail the new user an invitation with a one-time sign-in link",
    )


class UserUpdate(RequestBody):
    """Only the fields sent are changed; ``phone: null`` removes the phone number."""

    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    time_zone: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    is_platform_admin: bool | None = None
    is_active: bool | None = None


class ProfileUpdate(RequestBody):
    """What people may change about themselves."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    time_zone: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32)


class PasswordChange(RequestBody):
    current_password: str | None = Field(default=None, max_length=1024)
    new_password: str = Field(min_length=12, max_length=1024)


class LoginLinkRead(ResponseBody):
    url: str
    expires_at: datetime


class InvitationRead(ResponseBody):
    sent_to: str = Field(description="The address the invitation mail is queued for")
    expires_at: datetime = Field(description="When its one-time sign-in link stops working")
