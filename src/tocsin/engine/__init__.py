"""The due-work engine: modules that claim due rows and apply the next step.

``loop.Engine`` runs the modules in a fixed order, woken by PostgreSQL NOTIFY and by the
earliest due time, with a short poll as a fallback. Tests call ``Engine.tick()`` with a
frozen clock instead of running the loop.
"""
