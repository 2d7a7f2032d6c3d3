"""The filters of every dashboard page. Choices come from the reference data already loaded for
the page (no extra query) and from the viewer's scope: a delegate is only offered, and only
accepted, their own départements and régions."""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.selectors import Filters, ReferenceData
from programmes.enums import InterventionForm

FIRST_DAY, LAST_DAY = datetime.date(2000, 1, 1), datetime.date(2100, 12, 31)


class DashboardFilterForm(forms.Form):
    du = forms.DateField(
        label=_("Du"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Date de décision, de dépôt ou de transmission selon l'indicateur."),
    )
    au = forms.DateField(
        label=_("Au"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    region = forms.ChoiceField(label=_("Région"), required=False)
    departement = forms.ChoiceField(label=_("Département"), required=False)
    programme = forms.ChoiceField(label=_("Programme"), required=False)
    domaine = forms.ChoiceField(label=_("Domaine prioritaire"), required=False)
    forme = forms.ChoiceField(
        label=_("Forme d'intervention"),
        required=False,
        choices=[("", _("Toutes")), *InterventionForm.choices],
    )

    def __init__(self, data, *, reference: ReferenceData):
        super().__init__(data)
        self.reference = reference
        everything = [("", _("Tous"))]
        self.fields["region"].choices = [("", _("Toutes"))] + [
            (region.code, region.name) for region in reference.regions
        ]
        self.fields["departement"].choices = everything + [
            (dep.code, f"{dep.code} – {dep.name}") for dep in reference.departements
        ]
        self.fields["programme"].choices = everything + [
            (programme.code, programme.name) for programme in reference.programmes
        ]
        self.fields["domaine"].choices = everything + [
            (domain.code, f"– {domain.name}" if domain.parent_id else domain.name)
            for domain in reference.domains
        ]

    def _plausible(self, name):
        # 9999-12-31 + one day, or 0001-01-01 in UTC, overflow Python's dates (a 500).
        value = self.cleaned_data.get(name)
        if value is not None and not (FIRST_DAY <= value <= LAST_DAY):
            raise forms.ValidationError(_("Saisissez une date entre 2000 et 2100."))
        return value

    def clean_du(self):
        return self._plausible("du")

    def clean_au(self):
        return self._plausible("au")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("du"), cleaned.get("au")
        if start and end and start > end:
            self.add_error("au", _("La fin de la période doit suivre son début."))
        return cleaned

    def filters(self) -> Filters:
        """The valid filters; an invalid value (or one outside the scope) is dropped, and the
        form shows its error next to the field."""
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        ref = self.reference
        return Filters(
            start=data.get("du"),
            end=data.get("au") if "au" not in self.errors else None,
            region_id=ref.region_id(data.get("region")),
            departement_id=ref.departement_id(data.get("departement")),
            programme_id=ref.programme_id(data.get("programme")),
            domain_id=ref.domain_id(data.get("domaine")),
            intervention_form=data.get("forme") or "",
        )
