from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnctPortalConfig(AppConfig):
    name = "anct_portal"
    verbose_name = _("Portail")
