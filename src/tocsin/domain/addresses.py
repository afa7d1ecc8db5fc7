"""Where tocsin may post on someone's say-so (a push subscription, an ntfy server, a
Teams webhook): HTTPS on a public host. tocsin posts from inside your network, so an
address on it (localhost, a private or link-local IP) would make such a setting a way to
reach internal services; ``allow_private`` (``TOCSIN_ALLOW_PRIVATE_DESTINATIONS``) lifts
that for a server you run inside it."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from tocsin.errors import InvalidInput

MAX_URL = 2048


def outbound_url(value: str, *, field: str, what: str, allow_private: bool = False) -> str:
    url = value.strip()
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes or not parts.hostname or len(url) > MAX_URL:
        raise InvalidInput(field, f"{what} starting with https://")
    if allow_private:
        return url
    host = parts.hostname.lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise InvalidInput(field, f"{what} must be on a public host")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url
    if not address.is_global:
        raise InvalidInput(field, f"{what} must be on a public host")
    return url


NTFY_TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")


def ntfy_topic_url(value: str, *, allow_private: bool = False) -> str:
    """An ntfy topic as its URL (``https://ntfy.sh/my-alerts``, or on a server of your
    own): the server, then exactly one path segment, the topic."""
    url = outbound_url(
        value, field="address", what="an ntfy topic URL", allow_private=allow_private
    )
    parts = urlsplit(url)
    server_path, _, topic = parts.path.rstrip("/").rpartition("/")
    if not NTFY_TOPIC.match(topic) or parts.query or parts.fragment:
        raise InvalidInput(
            "address", "an ntfy topic URL ends with the topic: https://ntfy.sh/my-alerts"
        )
    return f"{parts.scheme}://{parts.netloc}{server_path}/{topic}"
