"""Who is on call: schedules, their layers and overrides, on-call queries and calendar feeds."""
