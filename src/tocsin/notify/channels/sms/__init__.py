"""SMS: pages as text messages, answered by text (``1234A``), through Twilio
(``docs/channels/sms-voice.md``)."""
