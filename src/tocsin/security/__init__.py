"""Password hashing, tokens, signing and encryption. Pure functions over bytes and strings."""
