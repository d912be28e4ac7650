# The Celery application is made when Django starts, so that shared_task in the apps binds to it.
from .celery import app as celery_app

__all__ = ["celery_app"]
