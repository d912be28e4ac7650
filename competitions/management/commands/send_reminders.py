"""``manage.py send_reminders``: every reminder that is due, each sent once.

Safe to run every hour (see docs/operations.md for the cron line): every reminder is recorded
in ``SentReminder`` with a unique row per kind, subject and person, so a second run on the
same day sends nothing again. Each installed app's ``reminders.send_due(now)`` says what is
due; this command only finds and calls them.
"""

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.module_loading import module_has_submodule


def reminder_modules():
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "reminders"):
            module = import_module(f"{config.name}.reminders")
            if hasattr(module, "send_due"):
                yield config.name, module


class Command(BaseCommand):
    help = "Send every reminder that is due and has not been sent yet (safe to run hourly)."

    def handle(self, *args, **options):
        now = timezone.now()
        total = 0
        for name, module in reminder_modules():
            sent = module.send_due(now)
            total += sent
            self.stdout.write(f"{name}: {sent}")
        self.stdout.write(f"total: {total}")
