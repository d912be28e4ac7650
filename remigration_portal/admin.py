"""django-axes' list of login attempts, with its clean-up action working."""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice


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

# A user's second factor is theirs alone: nobody edits it in the admin (django-otp registers
# its devices there), where a secret key could be read or set. A lost phone is replaced with a
# recovery code; see docs/operations.md for a user who lost both.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)
