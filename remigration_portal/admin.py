"""django-axes' list of login attempts, with its clean-up action working; the users' admin,
which never makes a municipality's staff member a coordinator or a reviewer."""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from competitions import roles


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


class PortalUserChangeForm(UserChangeForm):
    """Refuses to give an authority role (superuser, or the permissions of a coordinator or a
    reviewer on an account that enters the admin) to a member of a municipality's staff: the
    other half of the rule ``municipality_set_staff`` keeps."""

    def clean(self):
        cleaned = super().clean()
        user = self.instance
        if user.pk is None or not user.municipalities.exists():
            return cleaned
        chosen = Permission.objects.filter(group__in=cleaned.get("groups") or []) | (
            Permission.objects.filter(pk__in=[p.pk for p in cleaned.get("user_permissions") or []])
        )
        permissions = {
            f"{app_label}.{codename}"
            for app_label, codename in chosen.values_list("content_type__app_label", "codename")
        }
        if roles.grants_authority(
            is_staff=bool(cleaned.get("is_staff")),
            is_superuser=bool(cleaned.get("is_superuser")),
            permissions=permissions,
        ):
            raise ValidationError(
                _(
                    "%(user)s acts for %(municipalities)s: a municipality's staff cannot be a "
                    "coordinator, a reviewer or an administrator of the authority. Remove them "
                    "from the municipality's staff first."
                ),
                code="staff_as_authority",
                params={
                    "user": user.get_username(),
                    "municipalities": ", ".join(str(m) for m in user.municipalities.all()),
                },
            )
        return cleaned


class PortalUserAdmin(UserAdmin):
    form = PortalUserChangeForm


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), PortalUserAdmin)

# A user's second factor is theirs alone: nobody edits it in the admin (django-otp registers
# its devices there), where a secret key could be read or set. A lost phone is replaced with a
# recovery code; see docs/operations.md for a user who lost both.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)
