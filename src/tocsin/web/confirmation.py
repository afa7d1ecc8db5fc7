"""Destructive form posts are confirmed first, with or without JavaScript.

A destructive form carries the question it asks (``confirm_question``, written by its
page's template) and its route calls ``ask_first``: a post without ``confirmed=yes``
changes nothing and is answered by a page asking that question, whose button posts the
same form again, confirmed. With JavaScript, ``static/confirm.js`` asks in a ``<dialog>``
on the page itself and sends the form already confirmed, so the second round trip is
only for browsers without it.

Showing a question the form brought is safe because ``ask_first`` runs after the CSRF
check: only a page tocsin rendered for this session can have sent it.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from tocsin.web.pages import SignedIn, render

QUESTION_FIELD = "confirm_question"
CONFIRMED_FIELD = "confirmed"
FALLBACK_QUESTION = "This cannot be undone. Go on?"


def ask_first(
    request: Request, signed_in: SignedIn, fields: dict[str, str], *, back: str
) -> Response | None:
    """``None`` when the form was confirmed; otherwise the page that asks, whose Cancel
    leads to ``back``."""
    if fields.get(CONFIRMED_FIELD) == "yes":
        return None
    return render(
        request,
        "confirm.html",
        signed_in=signed_in,
        question=fields.get(QUESTION_FIELD) or FALLBACK_QUESTION,
        action=request.url.path,
        # The CSRF token and the form's own fields go back as they came.
        fields={name: value for name, value in fields.items() if name != CONFIRMED_FIELD},
        back=back,
    )
