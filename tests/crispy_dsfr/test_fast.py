"""``crispy_dsfr.fast`` writes, character for character, what ``{% crispy form %}`` renders, in
every state of the forms it knows (unbound, kept text, errors on fields, on the form and on a
hidden field, files to choose again, disabled field), and leaves the others to crispy."""

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.utils import translation
from django.utils.datastructures import MultiValueDict

from crispy_dsfr.fast import render_form
from crispy_dsfr.helper import dsfr_helper
from crispy_dsfr.layout import Actions, Button, LinkButton
from engineering_requests.enums import RequestState
from engineering_requests.forms import MessageForm, ProgressNoteForm, ProvideInfoForm
from engineering_requests.models import EngineeringRequest

NASTY = "Guillemets \" apostrophe ' <b>gras</b> & « esperluette »"
CRISPY = Template("{% load crispy_forms_tags %}{% crispy form %}")
FAST = Template("{% load crispy_dsfr_tags %}{% dsfr_form form %}")


class NastyForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=NASTY, help_text=NASTY, max_length=10)
    locked = forms.CharField(label="Verrouillé", required=False, disabled=True, initial=NASTY)
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    document = forms.FileField(label="Document", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = dsfr_helper(
            "token",
            "name",
            "locked",
            "note",
            "document",
            Actions(
                Button(NASTY, icon="fr-icon-x", name="go", value="<1>", data_x=NASTY),
                Button("Autre", secondary=True),
                inline=False,
                css_class="fr-mt-3w",
            ),
            action="/envoi/?a=1&b=2",
            form_id="nasty-form",
            form_class="fr-mt-2w <classe>",
            data_single_submit="",
        )


def both(form, csrf=True):
    """The form rendered by crispy and by ``{% dsfr_form %}`` with the same CSRF token."""
    context = {"form": form, "csrf_token": "a<b>c" if csrf else None}
    old = CRISPY.render(Context(context))
    new = FAST.render(Context(context))
    return old, new


def request_forms():
    request = EngineeringRequest(pk=42, state=RequestState.INFO_REQUESTED)
    yield MessageForm(engineering_request=request)
    yield MessageForm(engineering_request=request, initial={"body": NASTY})
    yield ProvideInfoForm(engineering_request=request)
    yield ProgressNoteForm(engineering_request=request, initial={"body": "Point\nsuivant"})
    empty = MessageForm({"body": "", "form_token": "x" * 80}, engineering_request=request)
    empty.is_valid()
    empty.add_error(None, NASTY)
    yield empty
    with_files = MessageForm(
        {"body": NASTY, "form_token": "a" * 32},
        MultiValueDict({"files": [SimpleUploadedFile("a.pdf", b"%PDF-1.4")]}),
        engineering_request=request,
    )
    with_files.is_valid()
    with_files.add_error("files", "Ce fichier n'est pas un PDF <valide>.")
    yield with_files
    stored = ProvideInfoForm(
        {"message": "", "form_token": "a" * 32, "seen_state": "bogus"},
        MultiValueDict({"files": [SimpleUploadedFile("a.pdf", b"%PDF-1.4")]}),
        engineering_request=request,
    )
    stored.is_valid()
    stored.files_stored = True
    yield stored
    note = ProgressNoteForm({"body": ""}, engineering_request=request)
    note.is_valid()
    yield note


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_request_page_forms_are_written_as_crispy_renders_them(language):
    with translation.override(language):
        for form in request_forms():
            old, new = both(form)
            assert render_form(form, "a<b>c") is not None
            assert new == old
            assert 'csrfmiddlewaretoken" value="a&lt;b&gt;c"' in new
        # Without a token (a page outside the CSRF middleware), none is written either.
        old, new = both(MessageForm(engineering_request=EngineeringRequest(pk=1)), csrf=False)
        assert new == old and "csrfmiddlewaretoken" not in new


def test_errors_kept_text_and_files_to_choose_again_are_in_the_compared_states():
    states = [both(form)[1] for form in request_forms()]
    assert any("Le formulaire contient 3 erreurs" in html for html in states)
    assert any("Le formulaire contient une erreur" in html for html in states)
    assert any("data-files-dropped" in html for html in states)
    assert any("fr-upload-group--error" in html for html in states)
    assert any('aria-invalid="true"' in html for html in states)
    assert any("&lt;b&gt;gras&lt;/b&gt;" in html for html in states)


def test_escaping_and_every_option_of_the_written_parts():
    bound = NastyForm({"name": "x" * 20, "token": NASTY}, {})
    bound.is_valid()
    for form in (NastyForm(), bound):
        old, new = both(form)
        assert new == old
        assert "<b>gras" not in new and "&lt;b&gt;gras&lt;/b&gt;" in new
    assert 'action="/envoi/?a=1&amp;b=2"' in new and "fr-input-group--disabled" in new
    assert 'name="go" value="&lt;1&gt;"' in new and "fr-btns-group--inline-md" not in new


def test_other_layouts_are_left_to_crispy():
    class WithLink(forms.Form):
        name = forms.CharField()

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.helper = dsfr_helper("name", Actions(LinkButton("Annuler", "/")))

    class WithSelect(forms.Form):
        kind = forms.ChoiceField(choices=[("a", "A")])

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.helper = dsfr_helper("kind")

    class Unmentioned(forms.Form):
        name = forms.CharField()
        other = forms.CharField()

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.helper = dsfr_helper("name")

    class Wrapped(forms.Form):
        name = forms.CharField()

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.helper = dsfr_helper("name", form_class="une-classe")
            self.helper.form_group_wrapper_class = "autre"

    for form_class in (WithLink, WithSelect, Unmentioned, Wrapped):
        form = form_class()
        assert render_form(form, "t") is None
        old, new = both(form)
        assert new == old  # {% dsfr_form %} hands them to crispy
