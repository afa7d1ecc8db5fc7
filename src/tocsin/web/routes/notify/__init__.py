"""Pages for notification settings, contact-method verification and magic links."""
