"""Pages for schedules: who is on call, layers, overrides and swaps."""
