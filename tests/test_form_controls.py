"""``competitions.forms.control`` writes a control's HTML without Django's widget templates,
for the application form's repeated fields (the edit page's speed). It must write what Django
writes: every control of the application form, in every state a page shows it in, is compared
with ``BoundField.as_widget`` rendering Django's own Jinja2 widget templates."""

import pytest
from django.utils import translation

from applications import services
from applications.forms import ActivityFormSet, ApplicationForm, shown_data
from applications.views import ACTIVITIES_PREFIX
from competitions.forms import control

from .factories import CompetitionFactory, PlannedActivityFactory, municipality, staff_of

pytestmark = pytest.mark.django_db

#: Text that must be escaped the same way in a value, a textarea and an option.
AWKWARD = 'Brošūra "Mājas" & <b>citi</b> o\'kay'


@pytest.fixture
def draft():
    user = staff_of("smiltenes-novads")
    application = services.application_start(
        competition=CompetitionFactory(),
        municipality=municipality("smiltenes-novads"),
        by=user,
    )
    PlannedActivityFactory(application=application, title=AWKWARD, description=f"\n{AWKWARD}")
    PlannedActivityFactory(application=application, order=1, target_group="")
    return application


def formset_of(application, data=None):
    return ActivityFormSet(
        data,
        instance=application,
        categories=application.competition.categories.all(),
        prefix=ACTIVITIES_PREFIX,
        queryset=application.activities.all(),
    )


def assert_same_as_django(forms):
    compared = 0
    for form in forms:
        for field in form:
            for css in (None, "textinput form-control is-invalid"):
                django = field.as_widget(attrs={"class": css} if css else None)
                assert control(field, css) == django, field.html_name
                compared += 1
    return compared


@pytest.mark.parametrize("language", ["lv", "en"])
def test_every_control_of_a_saved_draft_is_written_as_django_writes_it(draft, language):
    with translation.override(language):
        formset = formset_of(draft)
        forms = [ApplicationForm(instance=draft), *formset.forms, formset.empty_form]
        # 2 activities and the empty one: 11 controls each, and the 6 general ones; twice.
        assert assert_same_as_django(forms) == (6 + 3 * 11) * 2


def test_every_control_of_a_refused_post_is_written_as_django_writes_it(draft):
    shown = formset_of(draft)
    data = shown_data(ApplicationForm(instance=draft), shown.management_form, *shown.forms)
    first, second = (f"{ACTIVITIES_PREFIX}-{n}-" for n in (0, 1))
    data.update(
        {
            "contact_email": "nav e-pasts",
            first + "cost": "abc",
            first + "starts_on": "2027-05-01",
            first + "ends_on": "2027-01-01",
            first + "category": "999999",
            first + "DELETE": "on",
            second + "title": "",
            second + "expected_result": AWKWARD,
        }
    )
    form, formset = ApplicationForm(data, instance=draft), formset_of(draft, data)
    assert not form.is_valid()
    assert not formset.is_valid()
    invalid = [form["contact_email"], *(formset.forms[0][n] for n in ("cost", "ends_on"))]
    assert all(field.errors for field in invalid), "the states compared include errors"
    assert assert_same_as_django([form, *formset.forms]) == (6 + 2 * 11) * 2
