"""The Celery application: the portal's task queue.

Workers start with ``celery -A remigration_portal worker`` and the one scheduler with
``celery -A remigration_portal beat``; both read the same settings as the app servers (the
``CELERY_*`` names in settings.py). Tasks live in each app's ``tasks.py`` as ``shared_task``,
so that the apps never import this module.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remigration_portal.settings")

app = Celery("remigration_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
