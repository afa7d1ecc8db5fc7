"""Contact methods, notification rules and warnings, and deliveries."""
