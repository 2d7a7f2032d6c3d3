"""Who a sign-in attempt comes from, for django-axes (see settings, "Sign-in throttling")."""

from django.conf import settings


def username(request, credentials) -> str:
    """The e-mail address as the account is looked up: case and spaces do not matter, so
    ``Elu@Demo.test`` and ``elu@demo.test`` count as the same account's failures."""
    credentials = credentials or {}
    value = credentials.get(settings.AXES_USERNAME_FORM_FIELD) or credentials.get("email")
    if value is None and request is not None:
        value = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    return (value or "").strip().lower()[:254]


def client_ip(request) -> str:
    """``REMOTE_ADDR``, or behind ``TRUSTED_PROXY_COUNT`` reverse proxies the address the
    first of them saw (the addresses a client writes itself in X-Forwarded-For are ignored)."""
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < count:
        return remote
    return forwarded[-count]


def lockout_response(request, original_response=None, credentials=None):
    """The page shown instead of the sign-in form while the pair is locked (HTTP 429)."""
    from django.shortcuts import render

    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    response = render(
        request,
        settings.AXES_LOCKOUT_TEMPLATE,
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    response["Retry-After"] = str(minutes * 60)
    return response
