"""Texts of Django's own admin and login that the portal's catalogue writes anew for Latvian,
and the names of the models as the object of a verb.

Django's Latvian catalogue puts a model's name in the nominative where the sentence needs the
accusative ("Labot konkurss", "Pievienot konkurss"), mixes "tu" and "Jūs", and orders the
plural forms of a few texts wrongly ("3 iznākums"). The project's catalogue comes first in
LOCALE_PATHS, so an entry there wins over Django's. The entries are named here so that
``makemessages`` keeps them; nothing imports this module.
"""

from django.utils.translation import gettext_noop, ngettext_lazy, pgettext_lazy

#: ``competitions.admin_base.accusative`` reads these: "Labot konkursu", "Pievienot pieteikumu".
ACCUSATIVE_NAMES = [
    pgettext_lazy("accusative", "municipality"),
    pgettext_lazy("accusative", "activity category"),
    pgettext_lazy("accusative", "call"),
    pgettext_lazy("accusative", "application"),
    pgettext_lazy("accusative", "review"),
    pgettext_lazy("accusative", "allocation event"),
    pgettext_lazy("accusative", "decision letter"),
    pgettext_lazy("accusative", "grant"),
    pgettext_lazy("accusative", "plan version"),
    pgettext_lazy("accusative", "agreement"),
    pgettext_lazy("accusative", "user"),
    pgettext_lazy("accusative", "group"),
    pgettext_lazy("accusative", "access attempt"),
    pgettext_lazy("accusative", "access failure"),
    pgettext_lazy("accusative", "background job"),
    pgettext_lazy("accusative", "message"),
    pgettext_lazy("accusative", "objection"),
]

DJANGO_TEXTS = [
    # the login pages
    gettext_noop(
        "Please enter the correct %(username)s and password for a staff account. Note that both "
        "fields may be case-sensitive."
    ),
    gettext_noop(
        "Please enter a correct %(username)s and password. Note that both fields may be "
        "case-sensitive."
    ),
    gettext_noop(
        "You are authenticated as %(username)s, but are not authorized to access this page. "
        "Would you like to login to a different account?"
    ),
    gettext_noop("Enter the same password as before, for verification."),
    gettext_noop("In case you’ve forgotten, you are:"),
    gettext_noop(
        "Forgotten your password? Enter your email address below, and we’ll email instructions "
        "for setting a new one."
    ),
    gettext_noop(
        "You're receiving this email because you requested a password reset for your user "
        "account at %(site_name)s."
    ),
    # the admin's titles and buttons; the model's name comes in the accusative
    gettext_noop("Select %s to change"),
    gettext_noop("Select %s to view"),
    gettext_noop("Select %s"),
    gettext_noop("Add %(name)s"),
    gettext_noop("Go"),
    gettext_noop(
        "Deleting the %(object_name)s '%(escaped_object)s' would result in deleting related "
        "objects, but your account doesn't have permission to delete the following types of "
        "objects:"
    ),
    gettext_noop(
        "Deleting the selected %(objects_name)s would result in deleting related objects, but "
        "your account doesn't have permission to delete the following types of objects:"
    ),
    ngettext_lazy("%(counter)s result", "%(counter)s results", "counter"),
]
