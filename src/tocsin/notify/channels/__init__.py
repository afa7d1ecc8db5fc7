"""Outbound channels: one package each (``email/``, …), the interfaces they implement
(``base.py``) and the one list of them (``registry.py``)."""
