"""The declarative base every table derives from.

Constraint and index names come from one naming convention so that Alembic migrations name
them identically on every database. Enums are ``StrEnum`` stored as text with a CHECK
constraint (adding a value is a one-line migration, not an ``ALTER TYPE``). Timestamps are
always ``timestamptz`` and always written from the injected clock, never by a server default.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: sa.DateTime(timezone=True),
        uuid.UUID: postgresql.UUID(as_uuid=True),
        dict[str, Any]: postgresql.JSONB,
    }


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, default=uuid.uuid4)


def text_enum(enum_cls: type[StrEnum]) -> sa.Enum:
    """A StrEnum stored as text, its values guarded by a named CHECK constraint."""
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", enum_cls.__name__).lower()
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_cls),
        values_callable=lambda members: [member.value for member in members],
    )
