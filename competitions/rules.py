"""The refusal every rule of the portal gives, and the rules of a call that are this app's own,
each a check that returns its problems and writes nothing.

A screen calls a check to show the problems before anything is written; the service calls the
same check under its row lock and refuses with the problems, so the two cannot disagree.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from . import roles
from .formatting import format_money
from .models import Competition


def refusal(message: str, code: str, **params) -> ValidationError:
    """A refusal that names its rule (``code``), with its amounts already written the Latvian
    way (``9 800,00 €``)."""
    shown = {
        key: format_money(value) if isinstance(value, Decimal) else value
        for key, value in params.items()
    }
    return ValidationError(message, code=code, params=shown)


def refuse_if_any(problems: list[ValidationError]) -> None:
    """Refuse with every problem found, if there is one."""
    if problems:
        raise ValidationError(problems)


# --- a municipality's staff -----------------------------------------------------------------


def staff_problems(*, staff, signatories) -> list[ValidationError]:
    """Why these users cannot be the municipality's staff and signatories: one who works for
    the authority (coordinator, reviewer, superuser) would judge the applications they make;
    a signatory must be on the staff."""
    problems = []
    authority = sorted(user.get_username() for user in staff if roles.holds_authority(user))
    if authority:
        problems.append(
            refusal(
                _(
                    "Coordinators, reviewers and administrators of the authority cannot act for "
                    "a municipality; remove from the staff: %(users)s."
                ),
                "authority_as_staff",
                users=", ".join(authority),
            )
        )
    staff_ids = {user.pk for user in staff}
    outsiders = sorted(user.get_username() for user in signatories if user.pk not in staff_ids)
    if outsiders:
        problems.append(
            refusal(
                _("Only the municipality's staff can sign for it; not staff: %(users)s."),
                "signatory_not_staff",
                users=", ".join(outsiders),
            )
        )
    return problems


# --- publishing -----------------------------------------------------------------------------


def publish_problems(competition: Competition, *, now=None) -> list[ValidationError]:
    """Why the call cannot be published now; nothing if it can. The first rule it breaks is
    the one named."""
    if competition.status != Competition.Status.DRAFT:
        return [
            refusal(
                _("Only a draft call can be published; this one is %(status)s."),
                "not_draft",
                status=competition.get_status_display(),
            )
        ]
    missing = _missing_to_publish(competition)
    if missing:
        return [
            refusal(
                _("The call cannot be published without: %(missing)s."),
                "incomplete_call",
                missing=", ".join(str(item) for item in missing),
            )
        ]
    if competition.closes_at <= (now or timezone.now()):
        return [
            refusal(
                _("The call's deadline has already passed; move it before publishing."),
                "deadline_passed",
            )
        ]
    return []


def _missing_to_publish(competition: Competition) -> list[str]:
    """What an applicant and a reviewer need of the call that it does not have yet."""
    missing = []
    if not competition.criteria.exists():
        missing.append(_("scoring criteria"))
    if not competition.categories.exists():
        missing.append(_("activity categories"))
    if not competition.eligible_municipalities.exists():
        missing.append(_("eligible municipalities"))
    if not competition.reviewers.exists():
        missing.append(_("reviewers"))
    if not competition.signatory_name or not competition.signatory_position:
        missing.append(_("the letter signatory and position"))
    return missing
