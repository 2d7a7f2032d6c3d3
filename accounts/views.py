"""Sign-in, sign-out, password reset and the account page.

Sign-in is e-mail + password through ``settings.AUTHENTICATION_BACKENDS``; ProConnect (OIDC)
will be one more backend plus a button in ``accounts/includes/login_providers.html``.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import forms, roles, services
from accounts.models import CollectivityMembership, DelegateAssignment


def default_landing_url(user) -> str:
    """Where a user lands after signing in when no ``next`` was given."""
    if user.is_staff and roles.is_staff_role(user):
        return reverse("admin:index")
    if not roles.is_official(user):
        from engineering_requests.selectors import followed_by

        if followed_by(user).exists():
            return reverse("engineering_requests:followed")
    return reverse("engineering_requests:list")


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = forms.LoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return default_landing_url(self.request.user)


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("home")

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.success(request, _("Vous êtes déconnecté. À bientôt !"))
        return response


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    form_class = forms.PasswordResetForm
    subject_template_name = "accounts/emails/password_reset_subject.txt"
    email_template_name = "accounts/emails/password_reset.txt"
    html_email_template_name = "accounts/emails/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        # Links are built on SITE_URL, never on the request's Host header (reset poisoning).
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = forms.SetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # The lockout page sends the owner here: a new password lifts their sign-in lockout.
        from axes.utils import reset

        reset(username=form.user.email.lower())
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    form = forms.PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        messages.success(request, _("Votre mot de passe a été changé."))
        return redirect("accounts:account")
    return render(request, "accounts/password_change.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    user = request.user
    form = forms.ProfileForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        services.update_profile(
            user=user, **{name: form.cleaned_data[name] for name in services.PROFILE_FIELDS}
        )
        messages.success(request, _("Vos informations ont été enregistrées."))
        return redirect("accounts:account")
    memberships = (
        CollectivityMembership.objects.filter(user=user)
        .select_related("collectivity__departement")
        .order_by("collectivity__name")
    )
    assignments = (
        DelegateAssignment.objects.filter(user=user)
        .select_related("departement")
        .order_by("departement__code")
    )
    return render(
        request,
        "accounts/account.html",
        {"form": form, "memberships": memberships, "assignments": assignments},
    )
