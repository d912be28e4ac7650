from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GrantsConfig(AppConfig):
    name = "grants"
    verbose_name = _("Grants")

    def ready(self):
        from applications.signals import competition_decided
        from competitions.models import Competition

        from .services import grants_open_on_decision

        competition_decided.connect(
            grants_open_on_decision, sender=Competition, dispatch_uid="grants.open"
        )

        from django.db.models.signals import post_delete, post_save

        from .models import Grant, Report
        from .results import grant_changed, report_changed

        # The public results show each grant's stage and money, and what its accepted final
        # report says was spent and done. A payment is recorded with the grant's totals.
        for name, signal in (("save", post_save), ("delete", post_delete)):
            signal.connect(grant_changed, sender=Grant, dispatch_uid=f"results.grant.{name}")
            signal.connect(report_changed, sender=Report, dispatch_uid=f"results.report.{name}")
