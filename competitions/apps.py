from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompetitionsConfig(AppConfig):
    name = "competitions"
    verbose_name = _("Calls")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from . import results_cache
        from .languages import record_at_login

        user_logged_in.connect(record_at_login, dispatch_uid="competitions.record_language")
        results_cache.connect()
