"""The back office's forms rendered in Python (``admin.rendering``) are, character for
character, what the template engine renders; a template that differs from the mirrored one
(an app's override, another Django) goes back to the engine."""

import re
from types import SimpleNamespace

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.renderers import DjangoTemplates
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from engineering_requests.admin import forms as admin_forms
from engineering_requests.admin.rendering import (
    FAST_RENDERER,
    MIRRORED,
    FastFormRenderer,
    form_fields_html,
)
from engineering_requests.admin.transitions import TRANSITIONS
from engineering_requests.enums import RequestState as S
from tests.programmes.factories import LocalProviderFactory, OperatorFactory

pytestmark = pytest.mark.django_db

STOCK = DjangoTemplates()
NASTY = "Quote \" apostrophe ' <b>bold</b> & ampersand « guillemets »"


class EveryWidgetForm(forms.Form):
    default_renderer = FAST_RENDERER

    text = forms.CharField(label="Texte <b>", help_text=NASTY, max_length=20)
    email = forms.EmailField(
        required=False,
        widget=forms.EmailInput(attrs={"data-x": NASTY, "data-safe": mark_safe("a &amp; b")}),
    )
    number = forms.IntegerField(required=False, label="Nombre ?")
    decimal = forms.DecimalField(required=False, localize=True)
    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    url = forms.URLField(required=False, assume_scheme="https")
    password = forms.CharField(required=False, widget=forms.PasswordInput(render_value=True))
    hidden = forms.CharField(required=False, widget=forms.HiddenInput)
    checkbox = forms.BooleanField(required=False, label=mark_safe("Case <i>sûre</i>"))
    textarea = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    choice = forms.ChoiceField(
        choices=[
            ("", "---"),
            ("a", "A & <a>"),
            ("Groupe « 1 »", [("b", "B"), ("c", 'C "c"')]),
            (3, "Trois"),
        ],
        required=False,
    )
    disabled = forms.CharField(required=False, disabled=True, initial=NASTY)
    file = forms.FileField(required=False)


def both(form_class, *args, **kwargs):
    """The same form rendered by the fast renderer and by Django's own."""
    return form_class(*args, **kwargs), form_class(*args, renderer=STOCK, **kwargs)


def stock_fields(form) -> str:
    return render_to_string("admin/engineering_requests/form_fields.html", {"form": form})


def test_the_mirrored_templates_are_django_s_and_rendered_in_python():
    """Otherwise every template would silently go back to the engine (and this module
    would be of no use)."""
    for name, source in MIRRORED.items():
        assert STOCK.get_template(name).template.source == source, name
    fast = FAST_RENDERER.fast_renderers
    for name in (
        "django/forms/widgets/text.html",
        "django/forms/widgets/hidden.html",
        "django/forms/widgets/checkbox.html",
        "django/forms/widgets/textarea.html",
        "django/forms/widgets/select.html",
        "django/forms/widgets/clearable_file_input.html",
        "django/forms/label.html",
    ):
        assert name in fast, name


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {
            "text": NASTY,
            "email": "pas un e-mail",
            "number": "12",
            "decimal": "1234,5",
            "date": "2026-02-30",
            "url": "javascript:alert(1)",
            "password": NASTY,
            "hidden": NASTY,
            "checkbox": "on",
            "textarea": f"{NASTY}\nligne 2",
            "choice": "c",
        },
        {"text": "ok", "choice": "3", "textarea": "  espaces  "},
    ],
)
def test_every_widget_renders_as_the_template_engine_renders_it(data):
    files = {"file": SimpleUploadedFile("a.txt", b"x")} if data else None
    fast, stock = both(EveryWidgetForm, data, files)
    assert form_fields_html(fast) == stock_fields(stock)
    for name in EveryWidgetForm.base_fields:
        assert str(fast[name]) == str(stock[name]), name
        assert fast[name].label_tag() == stock[name].label_tag(), name
        assert str(fast[name].errors) == str(stock[name].errors), name


def test_the_back_office_forms_render_as_with_the_templates(cast):
    LocalProviderFactory.create_batch(2, departement=cast.collectivity.departement, name=NASTY)
    OperatorFactory(name=NASTY)
    request = cast.request_in(S.IN_REVIEW)
    for transition in TRANSITIONS:
        for data in (None, {"seen_state": "draft", "amount": "abc", "instrument": "x"}):
            fast, stock = both(transition.form_class, data, engineering_request=request)
            if data:
                for form in (fast, stock):
                    form.add_service_errors(ValidationError(NASTY))
            assert form_fields_html(fast) == stock_fields(stock), transition.name
    fast, stock = both(admin_forms.MessageForm, initial={"form_token": "jeton"})
    stock.fields["form_token"].initial = fast.fields["form_token"].initial
    assert form_fields_html(fast) == stock_fields(stock)
    assert 'name="form_token"' in form_fields_html(fast)


def test_kept_markup_is_the_markup_of_each_form(cast):
    """The visible fields' markup kept per process (``fields_html_cacheable``) is that of the
    form rendered afresh, for each state and initial value; choices read from the database
    are rendered again (a new provider shows at once)."""
    from engineering_requests.admin import rendering

    rendering._FIELD_HTML.clear()
    rendering._FORM_HTML.clear()
    requests = [cast.request_in(S.IN_REVIEW), cast.request_in(S.ESCALATED)]
    for _round in range(2):
        for request in requests:
            for transition in TRANSITIONS:
                fast, stock = both(transition.form_class, None, engineering_request=request)
                assert form_fields_html(fast) == stock_fields(stock), transition.name
        assert rendering._FIELD_HTML and rendering._FORM_HTML
    provider = LocalProviderFactory(departement=cast.collectivity.departement, name="Nouveau")
    form = admin_forms.ResolveLocallyForm(engineering_request=requests[0])
    assert f'value="{provider.pk}">Nouveau</option>' in form_fields_html(form)
    first, second = (
        form_fields_html(admin_forms.MessageForm(initial={"body": body})) for body in ("un", "deux")
    )
    assert ">\nun</textarea>" in first and ">\ndeux</textarea>" in second
    # A hidden field outside fixed choices (the one-time token) is rendered each time.
    tokens = {re.search(r'name="form_token" value="([^"]+)"', html)[1] for html in (first, second)}
    assert len(tokens) == 2


def test_a_template_that_differs_goes_back_to_the_engine(monkeypatch):
    renderer = FastFormRenderer()
    original = renderer.get_template

    def get_template(name):
        if name == "django/forms/widgets/attrs.html":  # as if an app overrode it
            return SimpleNamespace(template=SimpleNamespace(source="{{ widget.attrs }}"))
        return original(name)

    monkeypatch.setattr(renderer, "get_template", get_template)
    fast = renderer.fast_renderers
    # Every widget includes attrs.html: none is rendered in Python; labels still are.
    assert "django/forms/widgets/text.html" not in fast
    assert "django/forms/widgets/select.html" not in fast
    assert "django/forms/label.html" in fast
