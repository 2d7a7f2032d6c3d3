from django.apps import AppConfig


class CrispyDsfrConfig(AppConfig):
    """A django-crispy-forms template pack producing DSFR markup (``CRISPY_TEMPLATE_PACK``)."""

    name = "crispy_dsfr"
    verbose_name = "Crispy DSFR"
