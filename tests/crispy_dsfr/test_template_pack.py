"""The crispy_dsfr pack renders DSFR markup: what a screen-reader user and a sighted user get."""

import re

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template

from crispy_dsfr.helper import dsfr_helper
from crispy_dsfr.layout import Actions, Button, LinkButton, Section


class SampleForm(forms.Form):
    title = forms.CharField(label="Intitulé", help_text="En une ligne.", max_length=10)
    kind = forms.ChoiceField(label="Type", choices=[("a", "Étude"), ("b", "Expertise")])
    form = forms.ChoiceField(
        label="Cadre", choices=[("x", "Programme"), ("y", "Contrat")], widget=forms.RadioSelect
    )
    domains = forms.MultipleChoiceField(
        label="Domaines",
        choices=[("Ville", [("1", "Cités éducatives")]), ("2", "Numérique")],
        widget=forms.CheckboxSelectMultiple,
    )
    accept = forms.BooleanField(label="J'accepte")
    secret = forms.CharField(label="Mot de passe", widget=forms.PasswordInput)
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea)
    document = forms.FileField(label="Document", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = dsfr_helper(
            Section("1. Le projet", "title", "kind", "form", "domains"),
            "accept",
            "secret",
            "note",
            "document",
            Actions(Button("Envoyer"), LinkButton("Annuler", "/")),
            action="/envoi/",
        )


def render(form) -> str:
    return Template("{% load crispy_forms_tags %}{% crispy form %}").render(Context({"form": form}))


def test_an_unbound_form_is_dsfr_markup_without_error_summary():
    html = render(SampleForm())
    assert '<form action="/envoi/" method="post"' in html and "novalidate" in html
    assert 'class="fr-input-group"' in html
    assert '<label class="fr-label" for="id_title">Intitulé' in html
    assert '<span class="fr-hint-text" id="id_title_helptext">En une ligne.</span>' in html
    assert 'class="fr-input"' in html and 'class="fr-select"' in html
    assert 'class="fr-fieldset crispy-dsfr-section"' in html
    assert '<h2 class="fr-h4 fr-mb-0">1. Le projet</h2>' in html
    assert 'class="fr-fieldset__element"' in html
    assert 'class="fr-radio-group"' in html and 'class="fr-checkbox-group"' in html
    assert 'class="fr-password' in html and "Afficher" in html
    assert 'class="fr-upload"' in html
    assert "(facultatif)" in html  # note and document are optional
    assert '<button type="submit" class="fr-btn">Envoyer</button>' in html
    assert '<a class="fr-btn fr-btn--secondary" href="/">Annuler</a>' in html
    assert "data-error-summary" not in html
    assert 'aria-invalid="true"' not in html


def test_a_failed_form_has_a_summary_linking_to_fields_and_errors_tied_to_inputs():
    form = SampleForm(data={"title": "x" * 11, "kind": "zzz"})
    assert not form.is_valid()
    html = render(form)
    summary = html[html.index("data-error-summary") : html.index("</ul>")]
    assert (
        'role="alert"'
        in html[html.index("fr-alert--error") - 40 : html.index("data-error-summary")]
    )
    assert "Le formulaire contient 6 erreurs" in summary
    for anchor in (
        "#id_title",
        "#id_kind",
        "#id_form_0",
        "#id_domains_0",
        "#id_accept",
        "#id_secret",
    ):
        assert f'href="{anchor}"' in summary
    # The message is linked to the input by aria-describedby, the input marked invalid.
    title_input = re.search(r"<input[^>]*name=\"title\"[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in title_input
    assert 'aria-describedby="id_title_helptext id_title_error"' in title_input
    assert 'class="fr-input fr-input--error"' in title_input
    assert 'id="id_title_error"' in html and "fr-message--error" in html
    assert "fr-input-group--error" in html and "fr-select-group--error" in html
    # Radio and checkbox groups: the fieldset is labelled by its legend and its errors.
    assert 'aria-labelledby="id_form-legend id_form_error"' in html
    assert "fr-fieldset--error" in html
    # Option groups keep their title.
    assert "crispy-dsfr-group-title" in html and "Ville" in html


def test_a_failed_form_keeps_typed_values_escaped_and_asks_for_files_again():
    typed = '<script>alert("x")</script>'
    upload = SimpleUploadedFile("plan.pdf", b"%PDF-1.4 ...", content_type="application/pdf")
    form = SampleForm(data={"note": typed}, files={"document": upload})
    assert not form.is_valid()
    html = render(form)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "choisissez-les de nouveau" in html.lower()


def test_filters_report_the_component_of_each_widget():
    from crispy_dsfr.templatetags.crispy_dsfr_tags import dsfr_kind

    form = SampleForm()
    kinds = {name: dsfr_kind(form[name]) for name in form.fields}
    assert kinds == {
        "title": "input",
        "kind": "select",
        "form": "choices",
        "domains": "choices",
        "accept": "checkbox",
        "secret": "password",
        "note": "textarea",
        "document": "file",
    }


@pytest.mark.parametrize("pack", ["crispy_dsfr"])
def test_the_project_uses_the_pack(settings, pack):
    assert pack == settings.CRISPY_TEMPLATE_PACK
    assert "crispy_dsfr" in settings.INSTALLED_APPS
