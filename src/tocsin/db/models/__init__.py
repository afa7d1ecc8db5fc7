"""One module per aggregate. ``all_models`` imports them so metadata is complete for
Alembic and tests; application code imports the module it needs."""
