"""The one provider of web push: the browser's own push service, reached with the
subscription's endpoint."""
