"""Every write with a rule: applications, reviews, the allocation of money, the decision and
its letters.

Each service runs in one transaction and takes plain, keyword-only arguments. A refusal is a
``ValidationError`` with a ``code`` and a message that names the rule and the amounts.

Money has one door, ``money.award_set``. Everything that changes an awarded amount (an
allocation edit, an applied proposal, a withdrawal) reaches it with the call's row locked by
``common.lock_competition``, re-reads the call's totals under that lock, and writes the
``AllocationEvent`` in the same transaction.

A rule that a screen also asks before it offers a form is a check that returns its problems
and writes nothing (``review_problems``, ``limits_problems``); the service
asks it again under its lock.
"""

from competitions.formatting import MONEY_LIMIT

from .common import next_number
from .drafts import (
    ACTIVITY_REQUIRED_TO_SUBMIT,
    NEEDED_TO_SAVE,
    REQUIRED_TO_SUBMIT,
    ActivityData,
    ApplicationDetails,
    DraftChanges,
    DraftForEditing,
    MissingToSubmit,
    SubmissionRefused,
    application_delete_draft,
    application_edit,
    application_save_and_submit,
    application_save_draft,
    application_start,
    application_submit,
    application_update_draft,
    application_withdraw,
    build_snapshot,
    document_add,
    document_delete,
    over_cap_problems,
)
from .issuing import (
    LETTER_KINDS,
    competition_issue_letters,
    files_removed_on_failure,
    letter_issue,
)
from .money import (
    allocation_apply_proposal,
    allocation_apply_shown_proposal,
    allocation_reconsider,
    allocation_set,
    awards_of,
    competition_decide,
    competition_set_limits,
    decision_problems,
    decision_reasons_set,
    limits_problems,
)
from .reviews import review_problems, review_record, weighted_score

__all__ = [
    "ACTIVITY_REQUIRED_TO_SUBMIT",
    "LETTER_KINDS",
    "MONEY_LIMIT",
    "NEEDED_TO_SAVE",
    "REQUIRED_TO_SUBMIT",
    "ActivityData",
    "ApplicationDetails",
    "DraftChanges",
    "DraftForEditing",
    "MissingToSubmit",
    "SubmissionRefused",
    "allocation_apply_proposal",
    "allocation_apply_shown_proposal",
    "allocation_reconsider",
    "allocation_set",
    "application_delete_draft",
    "application_edit",
    "application_save_and_submit",
    "application_save_draft",
    "application_start",
    "application_submit",
    "application_update_draft",
    "application_withdraw",
    "awards_of",
    "build_snapshot",
    "competition_decide",
    "competition_issue_letters",
    "competition_set_limits",
    "decision_problems",
    "decision_reasons_set",
    "document_add",
    "document_delete",
    "files_removed_on_failure",
    "letter_issue",
    "limits_problems",
    "next_number",
    "over_cap_problems",
    "review_problems",
    "review_record",
    "weighted_score",
]
