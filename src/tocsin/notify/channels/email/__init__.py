"""Email, the first channel, in the shape every channel has: one package holding

* ``channel.py``: ``EmailChannel``, a notice rendered into a mail, and its providers;
* ``mime.py``: the one message shape tocsin sends;
* ``templates/``: the HTML and text templates;
* ``providers/``: SMTP, and the local outbox when no SMTP server is set;
* ``actions.py``: the local outbox's storage;
* ``routes.py``: the local outbox page.
"""
