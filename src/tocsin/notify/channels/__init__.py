"""One module per channel kind, each implementing ``channels.base.Channel``."""
