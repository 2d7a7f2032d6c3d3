from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngineeringRequestsConfig(AppConfig):
    name = "engineering_requests"
    verbose_name = _("Demandes d'appui en ingénierie")
