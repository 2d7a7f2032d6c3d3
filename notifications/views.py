"""The notification centre of the portal, the preferences page, and the DEBUG mail viewer."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notifications import devmail, services
from notifications.forms import PreferenceForm
from notifications.models import Notification, NotificationPreference

PAGE_SIZE = 20


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@login_required
@require_GET
def inbox(request):
    unread_only = request.GET.get("filtre") == "non-lues"
    queryset = Notification.objects.inbox(request.user).only(
        "pk", "event", "context", "created_at", "read_at", "engineering_request_id"
    )
    if unread_only:
        queryset = queryset.unread()
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "notifications": page.object_list, "unread_only": unread_only},
    )


@login_required
@require_POST
def open_notification(request, pk):
    """Mark one notification read and go to what it is about."""
    notification = get_object_or_404(Notification.objects.inbox(request.user), pk=pk)
    services.mark_read(user=request.user, notification_ids=[notification.pk])
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_read(request, pk):
    get_object_or_404(Notification.objects.inbox(request.user), pk=pk)
    services.mark_read(user=request.user, notification_ids=[pk])
    return redirect(_safe_next(request, reverse("notifications:inbox")))


@login_required
@require_POST
def mark_all_read(request):
    count = services.mark_read(user=request.user)
    if count:
        messages.success(request, _("Toutes vos notifications sont marquées comme lues."))
    return redirect(_safe_next(request, reverse("notifications:inbox")))


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    preference = NotificationPreference.objects.filter(user=request.user).first()
    if preference is None:
        preference = NotificationPreference(user=request.user)
    form = PreferenceForm(request.POST if request.method == "POST" else None, instance=preference)
    if request.method == "POST" and form.is_valid():
        services.set_preferences(
            user=request.user, receive_digests=form.cleaned_data["receive_digests"]
        )
        messages.success(request, _("Vos préférences de notification sont enregistrées."))
        return redirect(_safe_next(request, reverse("notifications:preferences")))
    return render(request, "notifications/preferences.html", {"form": form})


# The HTML mails carry inline styles (mail clients need them); the sandboxed preview frame
# inherits the page's policy, so this DEBUG-only page allows inline styles, nothing else.
@csp_update({"style-src": [UNSAFE_INLINE]})
def dev_mails(request):
    """DEBUG only: the e-mails the file backend wrote under ``EMAIL_FILE_PATH``."""
    if not settings.DEBUG:
        raise Http404
    mails = devmail.read_mails(settings.EMAIL_FILE_PATH)
    page = Paginator(mails, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/dev_mails.html",
        {"page": page, "mails": page.object_list, "folder": settings.EMAIL_FILE_PATH},
    )
