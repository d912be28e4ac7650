from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The project package as an app (no models): it connects the security log."""

    name = "remigration_portal"
    verbose_name = "Remigration portal"

    def ready(self):
        from . import security_log  # noqa: F401 - connects the signal receivers
