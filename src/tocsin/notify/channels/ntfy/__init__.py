"""ntfy: pages pushed to a phone through an ntfy topic, on ntfy.sh or a server of your
own, with no vendor account (``docs/channels/ntfy.md``)."""
