"""One module per vendor, each implementing the provider protocol of its channel."""
