"""Voice: pages as phone calls read aloud, answered with the keypad, through Twilio
(``docs/channels/sms-voice.md``)."""
