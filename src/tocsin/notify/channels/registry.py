"""Every channel tocsin has, in one list.

Adding a channel is its package under ``notify/channels/<name>/`` and one line here: the
notifier builds every configured channel from this list (``notify/notifier.py``), and the
app mounts every channel's routes, its inbound webhooks and settings pages (``app.py``).
"""

from __future__ import annotations

from tocsin.config import Settings
from tocsin.domain.channels import ChannelKind
from tocsin.errors import InvalidInput
from tocsin.notify.channels.base import ChannelPackage
from tocsin.notify.channels.email import package as email
from tocsin.notify.channels.ntfy import package as ntfy
from tocsin.notify.channels.push import package as push
from tocsin.notify.channels.slack import package as slack
from tocsin.notify.channels.sms import package as sms
from tocsin.notify.channels.teams import package as teams
from tocsin.notify.channels.voice import package as voice

CHANNELS: tuple[ChannelPackage, ...] = (
    email.PACKAGE,
    push.PACKAGE,
    ntfy.PACKAGE,
    slack.PACKAGE,
    teams.PACKAGE,
    sms.PACKAGE,
    voice.PACKAGE,
)


def post_kinds(settings: Settings) -> list[ChannelKind]:
    """The channels that can post to shared places on this tocsin (set up, and able to)."""
    return [
        package.kind
        for package in CHANNELS
        if package.post_address is not None and package.configured(settings)
    ]


def post_address(settings: Settings, kind: ChannelKind, address: str) -> str:
    """``address`` as a place ``kind`` posts to, checked by its channel; InvalidInput
    naming the field otherwise."""
    for package in CHANNELS:
        if (
            package.kind is kind
            and package.post_address is not None
            and package.configured(settings)
        ):
            return package.post_address(address)
    raise InvalidInput("kind", f"{kind.value} does not post to shared places here")
