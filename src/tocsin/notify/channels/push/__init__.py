"""Web push: pages as notifications of the installable app, acted on from the
notification, through the browsers' own push services (``docs/channels/push.md``)."""
