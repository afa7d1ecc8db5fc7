"""Every channel tocsin has, in one list.

Adding a channel is its package under ``notify/channels/<name>/`` and one line here: the
notifier builds every configured channel from this list (``notify/notifier.py``), and the
app mounts every channel's routes, its inbound webhooks and settings pages (``app.py``).
"""

from __future__ import annotations

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
