"""The back office (issue 6): delegates triage and national staff decide in the Django admin.

- ``requests``: the requests (scoped list, read-only page, workflow actions, exports, report);
- ``queue``: the national queue of escalations awaiting a decision;
- ``access``: admin permissions from roles, not from Django model permissions.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from engineering_requests.admin import queue, requests  # noqa: F401 - registers the admins

admin.site.site_header = _("Ingénierie territoriale – administration")
admin.site.site_title = _("Administration de l'ingénierie territoriale")
admin.site.index_title = _("Instruction des demandes")
