from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "applications"
    verbose_name = _("Applications")

    def ready(self):
        # A call's publication and a moved deadline are mailed from here: competitions, which
        # sends the signals, has no mail helpers of its own.
        from django.core.signals import request_finished, request_started

        from competitions.models import Competition
        from competitions.signals import call_published, deadline_changed

        from . import notifications

        call_published.connect(
            notifications.call_published,
            sender=Competition,
            dispatch_uid="applications.call_published",
        )
        deadline_changed.connect(
            notifications.deadline_changed,
            sender=Competition,
            dispatch_uid="applications.deadline_changed",
        )
        # Without a broker, mail that ``notifications.later`` keeps is sent after the response.
        request_started.connect(
            notifications.request_started, dispatch_uid="applications.after_response_start"
        )
        request_finished.connect(
            notifications.run_after_response, dispatch_uid="applications.after_response"
        )
        from django.db.models.signals import post_delete, post_save

        from .models import Application
        from .results import application_changed

        # The public results show each decided application's award, status and reason.
        post_save.connect(application_changed, sender=Application, dispatch_uid="results.app.save")
        post_delete.connect(
            application_changed, sender=Application, dispatch_uid="results.app.delete"
        )
