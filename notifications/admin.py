"""Outbox rows in the admin: staff see their own notifications (mark read); superusers and
holders of ``notifications.change_notification`` see every row and re-send failed ones."""

import json

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications import services
from notifications.enums import PeriodicEvent
from notifications.models import Notification, NotificationPreference


def event_choices() -> list[tuple[str, str]]:
    from engineering_requests.notifications import RequestEvent

    return [*RequestEvent.choices, *PeriodicEvent.choices]


class EventFilter(admin.SimpleListFilter):
    """Choices from the enums, never a ``SELECT DISTINCT`` over the table."""

    title = _("événement")
    parameter_name = "event"

    def lookups(self, request, model_admin):
        return event_choices()

    def queryset(self, request, queryset):
        return queryset.filter(event=self.value()) if self.value() else queryset


class ReadFilter(admin.SimpleListFilter):
    title = _("lecture")
    parameter_name = "lue"

    def lookups(self, request, model_admin):
        return [("non", _("Non lues")), ("oui", _("Lues"))]

    def queryset(self, request, queryset):
        if self.value() == "non":
            return queryset.filter(read_at__isnull=True)
        if self.value() == "oui":
            return queryset.filter(read_at__isnull=False)
        return queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "event_label",
        "subject",
        "recipient_label",
        "channel",
        "status",
        "attempts",
        "request_link",
        "read_at",
    )
    list_filter = ("status", "channel", EventFilter, ReadFilter)
    list_select_related = ("recipient", "engineering_request")
    search_fields = ("=email", "=engineering_request__reference")
    show_full_result_count = False
    list_per_page = 50
    actions = ["resend", "mark_read"]
    fields = (
        "event_label",
        "audience",
        "channel",
        "recipient",
        "email",
        "request_link",
        "subject",
        "body",
        "open_link",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "retry_at",
        "sent_at",
        "read_at",
        "dedup_key",
        "context_json",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.has_resend_permission(request):
            return queryset
        return queryset.filter(recipient=request.user)

    # Read-only: rows change only through the services (delivery, re-send, read marks).
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        return request.user.is_active and (
            request.user.is_superuser or request.user.has_perm("notifications.change_notification")
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        if not self.has_resend_permission(request):
            unread = Notification.objects.inbox(request.user).unread().count()
            extra_context["title"] = ngettext(
                "Mes notifications (%(count)s non lue)",
                "Mes notifications (%(count)s non lues)",
                unread,
            ) % {"count": unread}
        return super().changelist_view(request, extra_context=extra_context)

    @admin.display(description=_("événement"))
    def event_label(self, obj):
        return dict(event_choices()).get(obj.event, obj.event)

    @admin.display(description=_("objet"))
    def subject(self, obj):
        return obj.subject

    @admin.display(description=_("message"))
    def body(self, obj):
        return obj.body

    @admin.display(description=_("destinataire"))
    def recipient_label(self, obj):
        return obj.email or str(obj.recipient or "")

    @admin.display(description=_("demande"))
    def request_link(self, obj):
        if obj.engineering_request_id is None:
            return "—"
        return obj.engineering_request.reference or obj.engineering_request_id

    @admin.display(description=_("lien"))
    def open_link(self, obj):
        if not obj.url:
            return "—"
        return format_html('<a href="{}">{}</a>', obj.url, _("Ouvrir"))

    @admin.display(description=_("contexte"))
    def context_json(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.context, ensure_ascii=False, indent=2))

    @admin.action(description=_("Renvoyer les notifications en échec"), permissions=["resend"])
    def resend(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        count = services.resend(notification_ids=ids, user=request.user)
        skipped = len(ids) - count
        if count:
            self.message_user(
                request,
                ngettext(
                    "%(count)s notification remise en file d'envoi.",
                    "%(count)s notifications remises en file d'envoi.",
                    count,
                )
                % {"count": count},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)s notification ignorée : seules les notifications en échec sont "
                    "renvoyées.",
                    "%(count)s notifications ignorées : seules les notifications en échec sont "
                    "renvoyées.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    @admin.action(description=_("Marquer comme lues"))
    def mark_read(self, request, queryset):
        ids = queryset.values_list("pk", flat=True)
        count = services.mark_read(user=request.user, notification_ids=list(ids))
        self.message_user(
            request,
            ngettext(
                "%(count)s notification marquée comme lue.",
                "%(count)s notifications marquées comme lues.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "receive_digests", "updated_at")
    list_filter = ("receive_digests",)
    list_select_related = ("user",)
    search_fields = ("=user__email",)
    raw_id_fields = ("user",)
    show_full_result_count = False
