"""Schedule math: who is on call when, computed from rules, never stored shift by shift.

A schedule has an IANA time zone, layers (highest priority first) and overrides. Each layer
is a rotation (``rotations``) masked by restriction windows (``restrictions``); layering
and overrides (``timeline``, ``overrides``) flatten them into one timeline of
non-overlapping segments, where a stretch with nobody on call is an explicit gap segment.

Every local wall-clock time is turned into an instant by ``localtime.resolve`` and by
nothing else, so rotations, restrictions and calendars agree on what "09:00" means on a day
that skips or repeats an hour. The rules are documented in ``docs/schedules.md``.
"""
