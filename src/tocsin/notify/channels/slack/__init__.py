"""Slack: pages as direct messages with buttons, incidents posted to channels, and the
``/tocsin`` command (``docs/channels/slack.md``)."""
