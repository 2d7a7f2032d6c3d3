from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """The stock admin app, with a site that checks roles (``anct_portal.admin``)."""

    default_site = "anct_portal.admin.PortalAdminSite"
