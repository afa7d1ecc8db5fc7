"""The only code that changes state.

The API, the pages, the CLI and (later) chat buttons, magic links and the engine all call
these functions, so every change goes through one path and writes one audit event. An
action takes a session already inside a transaction and never commits: the edge that
opened the transaction owns it.
"""
