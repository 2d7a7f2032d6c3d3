"""Accounts and roles in the admin: superusers only, every role change in the audit log.

A role is what opens the back office and a territory's requests: the national group, a
delegation for a département, a membership of a collectivité. Only superusers (ANCT's
administrators) give or take them, here, and each save writes one ``LogEntry`` that says in
words what changed — groups, delegations and memberships added or removed, access flags before
and after — rather than Django's default "Groups changed".
"""

import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts import roles, services
from accounts.models import CollectivityMembership, DelegateAssignment, User

FLAGS = ("is_active", "is_staff", "is_superuser")
PROFILE = ("email", "first_name", "last_name", "job_title", "phone")


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta(auth_forms.UserChangeForm.Meta):
        model = User
        fields = "__all__"


class UserCreationForm(auth_forms.AdminUserCreationForm):
    class Meta(auth_forms.AdminUserCreationForm.Meta):
        model = User
        fields = ("email",)


class SuperuserOnly:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


class CollectivityMembershipInline(SuperuserOnly, admin.TabularInline):
    model = CollectivityMembership
    extra = 0
    autocomplete_fields = ("collectivity",)
    readonly_fields = ("created_at",)
    verbose_name = _("rattachement à une collectivité (élu ou agent)")
    verbose_name_plural = _("rattachements aux collectivités (élus et agents)")


class DelegateAssignmentInline(SuperuserOnly, admin.TabularInline):
    model = DelegateAssignment
    extra = 0
    autocomplete_fields = ("departement",)
    readonly_fields = ("created_at",)


def _snapshot(user_pk) -> dict:
    if user_pk is None:
        return {"groups": set(), "departements": set(), "collectivities": set(), "fields": {}}
    user = User.objects.get(pk=user_pk)
    return {
        "groups": set(user.groups.values_list("name", flat=True)),
        "departements": {
            str(a.departement)
            for a in DelegateAssignment.objects.filter(user=user).select_related("departement")
        },
        "collectivities": {
            str(m.collectivity)
            for m in CollectivityMembership.objects.filter(user=user).select_related("collectivity")
        },
        "fields": {name: getattr(user, name) for name in (*FLAGS, *PROFILE)},
    }


def _yes_no(value) -> str:
    return gettext("oui") if value else gettext("non")


def describe_changes(before: dict, after: dict) -> str:
    """One line per kind of change, in French, for the audit log."""
    parts = []
    for key, label in (
        ("groups", gettext("Groupes")),
        ("departements", gettext("Délégations territoriales")),
        ("collectivities", gettext("Rattachements aux collectivités")),
    ):
        added, removed = sorted(after[key] - before[key]), sorted(before[key] - after[key])
        if added or removed:
            items = [f"+ {name}" for name in added] + [f"− {name}" for name in removed]
            parts.append(f"{label} : {', '.join(items)}")
    for name in FLAGS:
        old, new = before["fields"].get(name), after["fields"][name]
        if old is not None and old != new:
            verbose = User._meta.get_field(name).verbose_name
            parts.append(f"{verbose} : {_yes_no(old)} → {_yes_no(new)}")
    changed = [
        str(User._meta.get_field(name).verbose_name)
        for name in PROFILE
        if name in before["fields"] and before["fields"][name] != after["fields"][name]
    ]
    if changed:
        parts.append(gettext("Profil modifié : %(fields)s") % {"fields": ", ".join(changed)})
    return " ; ".join(parts) or gettext("Aucune modification.")


@admin.register(User)
class UserAdmin(SuperuserOnly, auth_admin.UserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_superuser", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("=email", "first_name", "last_name")
    show_full_result_count = False
    filter_horizontal = ("groups",)
    readonly_fields = ("last_login", "date_joined")
    inlines = (CollectivityMembershipInline, DelegateAssignmentInline)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Identité"), {"fields": ("first_name", "last_name", "job_title", "phone")}),
        (
            _("Accès"),
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups"),
                "description": _(
                    "L'accès à l'administration demande « accès à l'administration » ET un "
                    "rôle : une délégation territoriale ci-dessous, ou le groupe « %(group)s »."
                )
                % {"group": roles.NATIONAL_STAFF_GROUP},
            },
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def save_model(self, request, obj, form, change):
        # What the account was before this save, for the audit log (construct_change_message).
        request._account_audit_before = _snapshot(obj.pk if change else None)
        super().save_model(request, obj, form, change)

    def construct_change_message(self, request, form, formsets, add=False):
        before = getattr(request, "_account_audit_before", None)
        if before is None:  # the password form (user_change_password)
            return gettext("Mot de passe changé par un administrateur.")
        after = _snapshot(form.instance.pk)
        if add:
            return gettext("Compte créé : %(email)s") % {"email": form.instance.email}
        return describe_changes(before, after)

    # Personal data (docs/personal-data.md) ---------------------------------------------------

    actions = ("export_personal_data", "delete_accounts")

    def has_delete_permission(self, request, obj=None):
        # An account is never deleted as a row: the audit trail points to it (protected keys)
        # and Django would take the admin history of its actions with it. « Supprimer les
        # comptes » anonymises instead (accounts.services.delete_account).
        return False

    @admin.action(description=_("Exporter les données personnelles (JSON)"))
    def export_personal_data(self, request, queryset):
        users = list(queryset[:2])
        if len(users) != 1:
            self.message_user(
                request, gettext("Choisissez un seul compte à exporter."), messages.WARNING
            )
            return None
        user = users[0]
        data = services.export_personal_data(user=user)
        LogEntry.objects.log_actions(
            user_id=request.user.pk,
            queryset=[user],
            action_flag=CHANGE,
            change_message=gettext("Export des données personnelles"),
            single_object=True,
        )
        response = HttpResponse(
            json.dumps(data, indent=2, ensure_ascii=False),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="donnees-personnelles-{user.pk}.json"'
        )
        return response

    @admin.action(description=_("Supprimer les comptes sélectionnés (anonymisation)"))
    def delete_accounts(self, request, queryset):
        # Never one's own account from here: an administrator would lock themselves out.
        users = list(queryset.filter(deleted_at__isnull=True).exclude(pk=request.user.pk))
        if not users:
            self.message_user(request, gettext("Aucun compte à supprimer."), messages.WARNING)
            return None
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "admin/accounts/user/delete_accounts.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "title": gettext("Supprimer des comptes"),
                    "subtitle": None,
                    "users": users,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        for user in users:
            services.delete_account(user=user, by=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)s compte supprimé (anonymisé).",
                "%(count)s comptes supprimés (anonymisés).",
                len(users),
            )
            % {"count": len(users)},
            messages.SUCCESS,
        )
        return None
