from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GrantsConfig(AppConfig):
    name = "grants"
    verbose_name = _("Grants")

    def ready(self):
        from applications.signals import competition_decided

        from .services import grants_open_on_decision

        competition_decided.connect(grants_open_on_decision, dispatch_uid="grants.open")
