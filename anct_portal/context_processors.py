from django.utils.translation import gettext_lazy as _

from anct_portal.menu import menu_for

SERVICE_NAME = _("Ingénierie territoriale")
SERVICE_TAGLINE = _("Agence nationale de la cohésion des territoires")


def portal(request) -> dict:
    """What every portal page needs; runs no SQL query."""
    return {
        "SERVICE_NAME": SERVICE_NAME,
        "SERVICE_TAGLINE": SERVICE_TAGLINE,
        "MAIN_MENU": menu_for(request),
    }
