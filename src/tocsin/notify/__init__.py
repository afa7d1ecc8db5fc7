"""Outbound notifications: channels (how a kind of message is shaped), providers (who
carries it), and what the engine needs to send one (``notifier``)."""
