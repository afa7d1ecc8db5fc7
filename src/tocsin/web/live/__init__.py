"""Live pages: incident changes pushed to open tabs by Server-Sent Events.

``changes`` reads the NOTIFY payloads the database sends (migration 0013), ``hub`` fans
them out to each open tab's bounded queue, ``listener`` holds the one LISTEN connection
of this process, and ``web/routes/live.py`` streams to a tab what its viewer may see.
"""
