from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    """The project package as an app (no models): it connects the security log."""

    default = True  # apps.py holds the admin's config too
    name = "remigration_portal"
    verbose_name = "Remigration portal"

    def ready(self):
        from . import security_log  # noqa: F401 - connects the signal receivers


class PortalAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with the portal's admin site as ``admin.site``."""

    default = False
    default_site = "remigration_portal.sites.PortalAdminSite"
