"""django-axes' list of login attempts, with its clean-up action working."""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PortalAccessAttemptAdmin(AccessAttemptAdmin):
    """django-axes' list of login attempts, with its clean-up action working."""

    @admin.action(description=_("Clean up expired attempts"))
    def cleanup_expired_attempts(self, request, queryset):
        # django-axes 8.3.1 measures "expired" from request.axes_attempt_time, which it sets
        # only while handling a login; from this action it raised (a 500).
        request.axes_attempt_time = timezone.now()
        return super().cleanup_expired_attempts(request, queryset)


admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, PortalAccessAttemptAdmin)
