"""Read-only inlines of a request's admin page: status history, thread, attachments.

Their rows are those of the request shown, which the admin already scoped; none can be added,
changed or deleted here (messages are written through ``services.post_message``).
"""

from django.contrib import admin
from django.template.defaultfilters import filesizeformat, linebreaks_filter
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts import roles
from engineering_requests.admin.access import RoleBasedAdminMixin
from engineering_requests.admin.display import state_badge
from engineering_requests.enums import MessageKind
from engineering_requests.models import Attachment, RequestMessage, TransitionLog


class _ReadOnlyInline(RoleBasedAdminMixin, admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def get_queryset(self, request):
        # The stock queryset (ordering, view permission), then what this inline reads of it.
        return self.narrow(
            super().get_queryset(request), staff_role=roles.is_staff_role(request.user)
        )

    def narrow(self, queryset, *, staff_role: bool):
        """The rows of ``queryset`` shown to State staff (``staff_role``) or to others, and
        the relations read with them: a function of its arguments only (the change page
        compiles its SQL once for each)."""
        return queryset


class TransitionLogInline(_ReadOnlyInline):
    model = TransitionLog
    verbose_name = _("changement de statut")
    verbose_name_plural = _("Historique des statuts")
    fields = ("created_at", "transition_label", "source", "target", "actor", "comment_text")

    def narrow(self, queryset, *, staff_role):
        return queryset.select_related("actor")

    @admin.display(description=_("action"))
    def transition_label(self, log):
        return log.get_transition_display()

    @admin.display(description=_("de"))
    def source(self, log):
        return state_badge(log.source_state)

    @admin.display(description=_("vers"))
    def target(self, log):
        return state_badge(log.target_state)

    @admin.display(description=_("commentaire"))
    def comment_text(self, log):
        return linebreaks_filter(log.comment, autoescape=True) if log.comment else "–"


class MessageInline(_ReadOnlyInline):
    model = RequestMessage
    verbose_name = _("message")
    verbose_name_plural = _("Échanges")
    fields = ("created_at", "author", "kind_label", "body_text")

    def narrow(self, queryset, *, staff_role):
        queryset = queryset.select_related("author")
        # Same rule as selectors.messages_for: internal notes for State staff only.
        if not staff_role:
            queryset = queryset.exclude(kind=MessageKind.INTERNAL_NOTE)
        return queryset

    @admin.display(description=_("nature"))
    def kind_label(self, message):
        css = "request-tag request-tag--internal" if message.is_internal else "request-tag"
        return format_html('<span class="{}">{}</span>', css, message.get_kind_display())

    @admin.display(description=_("message"))
    def body_text(self, message):
        return linebreaks_filter(message.body, autoescape=True)


class AttachmentInline(_ReadOnlyInline):
    model = Attachment
    verbose_name = _("pièce jointe")
    verbose_name_plural = _("Pièces jointes")
    fields = ("created_at", "download", "size_label", "uploaded_by", "visibility")

    def narrow(self, queryset, *, staff_role):
        queryset = queryset.select_related("uploaded_by")
        if not staff_role:
            queryset = queryset.filter(is_internal=False)
        return queryset

    @admin.display(description=_("fichier"))
    def download(self, attachment):
        url = reverse(
            "admin:engineering_requests_engineeringrequest_attachment",
            args=[attachment.engineering_request_id, attachment.pk],
        )
        return format_html('<a href="{}" download>{}</a>', url, attachment.original_name)

    @admin.display(description=_("taille"))
    def size_label(self, attachment):
        return filesizeformat(attachment.size)

    @admin.display(description=_("visibilité"))
    def visibility(self, attachment):
        return _("Interne (État)") if attachment.is_internal else _("Partagée avec la collectivité")
