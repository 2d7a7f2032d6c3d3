"""What an official typed survives an expired session.

When a form is posted by someone whose session has expired, ``login_required_keeping_post``
keeps the posted fields (never the files, never the tokens) in the new anonymous session, then
sends them to sign in with ``next`` set to the form's page. Signing in keeps the session's data
(Django only rotates its key), so the form's page finds what was typed with ``take_kept_post``
and shows it again — the request form saves it as a draft at once.
"""

import time
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import QueryDict

SESSION_KEY = "portal_kept_posts"
MAX_AGE_SECONDS = 3600
MAX_ENTRIES = 5
NOT_KEPT = {"csrfmiddlewaretoken", "form_token"}


def keep_post(request, *, next_url: str, form_name: str = "") -> None:
    kept = dict(request.session.get(SESSION_KEY, {}))
    kept[next_url] = {
        "at": time.time(),
        "form": form_name,
        "data": {key: request.POST.getlist(key) for key in request.POST if key not in NOT_KEPT},
        "had_files": bool(request.FILES),
    }
    # Keep the newest entries only: the session is not a store.
    newest = sorted(kept.items(), key=lambda item: item[1]["at"], reverse=True)[:MAX_ENTRIES]
    request.session[SESSION_KEY] = dict(newest)


def take_kept_post(request, next_url: str):
    """(form name, QueryDict, had_files) kept for this page, removed from the session; or None."""
    kept = request.session.get(SESSION_KEY)
    if not kept or next_url not in kept:
        return None
    entry = kept.pop(next_url)
    request.session[SESSION_KEY] = kept
    if time.time() - entry["at"] > MAX_AGE_SECONDS:
        return None
    data = QueryDict(mutable=True)
    for key, values in entry["data"].items():
        data.setlist(key, values)
    return entry["form"], data, entry["had_files"]


def login_required_keeping_post(next_url=None, form_name=None):
    """Like ``login_required``; a POST from a signed-out user is kept for after sign-in.

    ``next_url(request, **kwargs)`` gives the page to come back to (default: the posted URL,
    which must then answer GET); ``form_name`` tells that page which of its forms it was.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.user.is_authenticated:
                return view(request, *args, **kwargs)
            target = next_url(request, **kwargs) if next_url else request.get_full_path()
            if request.method == "POST":
                keep_post(request, next_url=target, form_name=form_name or "")
            return redirect_to_login(target)

        return wrapper

    return decorator
