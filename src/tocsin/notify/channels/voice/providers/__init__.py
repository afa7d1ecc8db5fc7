"""The vendors that place calls."""
