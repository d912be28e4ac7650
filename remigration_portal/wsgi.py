import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remigration_portal.settings")

application = get_wsgi_application()

# Each gunicorn worker loads this module once as it starts, before its first request.
from .warmup import warm_up  # noqa: E402

warm_up()
