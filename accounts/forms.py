from crispy_forms.layout import HTML
from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.urls import reverse, reverse_lazy
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from crispy_dsfr.helper import dsfr_helper
from crispy_dsfr.layout import Actions, Button, LinkButton

INVALID_EMAIL = _("Saisissez une adresse e-mail valide, par exemple nom@domaine.fr.")


def _plain_password_help(field) -> None:
    # Django's help is an HTML list; a DSFR hint is a line of text inside the label.
    field.help_text = " ".join(
        str(text) for text in password_validation.password_validators_help_texts()
    )


def _show_password(field, autocomplete: str) -> None:
    field.widget.attrs.update({"autocomplete": autocomplete})


class LoginForm(auth_forms.AuthenticationForm):
    """E-mail + password. Other ways in (ProConnect) come as authentication backends and as
    buttons in ``accounts/includes/login_providers.html``, not as changes to this form."""

    username = forms.EmailField(
        label=_("Adresse e-mail"),
        help_text=_("Format attendu : nom@domaine.fr"),
        widget=forms.EmailInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
        error_messages={"invalid": INVALID_EMAIL, "required": _("Saisissez votre adresse e-mail.")},
    )
    password = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Saisissez votre mot de passe.")},
    )
    error_messages = {
        "invalid_login": _(
            "Adresse e-mail ou mot de passe incorrect. Vérifiez votre saisie, ou choisissez "
            "« Mot de passe oublié ? »."
        ),
        "inactive": _("Ce compte est désactivé. Contactez votre délégué territorial."),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.helper = dsfr_helper(
            "username",
            "password",
            HTML(
                format_html(
                    '<p class="fr-mb-3w"><a class="fr-link" href="{}">{}</a></p>',
                    reverse("accounts:password_reset"),
                    _("Mot de passe oublié ?"),
                )
            ),
            HTML('<input type="hidden" name="next" value="{{ next }}">'),
            Actions(Button(_("Se connecter")), inline=False),
            form_id="login-form",
        )


class PasswordResetForm(auth_forms.PasswordResetForm):
    email = forms.EmailField(
        label=_("Adresse e-mail"),
        help_text=_("Celle de votre compte. Format attendu : nom@domaine.fr"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": INVALID_EMAIL, "required": _("Saisissez votre adresse e-mail.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = dsfr_helper(
            "email",
            Actions(
                Button(_("Recevoir le lien")),
                LinkButton(_("Retour à la connexion"), reverse_lazy("accounts:login")),
            ),
        )


class SetPasswordForm(auth_forms.SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = _("Nouveau mot de passe")
        self.fields["new_password2"].label = _("Confirmation du nouveau mot de passe")
        _plain_password_help(self.fields["new_password1"])
        for name in ("new_password1", "new_password2"):
            _show_password(self.fields[name], "new-password")
        self.helper = dsfr_helper(
            "new_password1", "new_password2", Actions(Button(_("Enregistrer le mot de passe")))
        )


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Mot de passe actuel")
        self.fields["new_password1"].label = _("Nouveau mot de passe")
        self.fields["new_password2"].label = _("Confirmation du nouveau mot de passe")
        _plain_password_help(self.fields["new_password1"])
        _show_password(self.fields["old_password"], "current-password")
        for name in ("new_password1", "new_password2"):
            _show_password(self.fields[name], "new-password")
        self.helper = dsfr_helper(
            "old_password",
            "new_password1",
            "new_password2",
            Actions(
                Button(_("Changer le mot de passe")),
                LinkButton(_("Annuler"), reverse_lazy("accounts:account")),
            ),
        )


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "job_title", "phone"]
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "job_title": forms.TextInput(attrs={"autocomplete": "organization-title"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
        }
        labels = {
            "first_name": _("Prénom"),
            "last_name": _("Nom"),
            "job_title": _("Fonction"),
            "phone": _("Téléphone"),
        }
        help_texts = {
            "job_title": _("Par exemple : maire, adjointe à l'urbanisme, secrétaire de mairie."),
            "phone": _("Pour que le délégué territorial puisse vous joindre."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].required = True
        self.fields["last_name"].required = True
        self.helper = dsfr_helper(
            "first_name",
            "last_name",
            "job_title",
            "phone",
            Actions(Button(_("Enregistrer"))),
            form_id="profile-form",
        )

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        digits = [c for c in phone if c.isdigit()]
        if phone and (len(digits) < 10 or any(c not in "0123456789 +.()-" for c in phone)):
            raise forms.ValidationError(
                _("Saisissez un numéro de téléphone valide, par exemple 05 55 12 34 56.")
            )
        return phone
