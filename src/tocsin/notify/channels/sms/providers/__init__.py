"""The vendors that carry texts."""
