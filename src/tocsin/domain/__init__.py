"""Pure rules: no I/O, no database, no clock reads. Everything else builds on these."""
