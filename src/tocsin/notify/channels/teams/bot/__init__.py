"""tocsin's Teams bot: personal pages with buttons that act in place, through
Microsoft's 365 Agents SDK. Imported only when ``TOCSIN_TEAMS_APP_ID`` and friends
configure it (``teams/package.py``): the SDK costs some 14 MB resident."""
