"""The municipal staff's pages, driven with the test client as a staff member would."""

import html
import io
import re
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications import services
from applications.models import Application, SupportingDocument

from .amounts import spaced, squeezed
from .factories import (
    CompetitionFactory,
    PlannedActivityFactory,
    category,
    municipality,
    staff_of,
)
from .source_case import DETAILS, activities_costing

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
RIGA = ZoneInfo("Europe/Riga")
FILL_IN = "Aizpildiet šo lauku pirms iesniegšanas."


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture
def call():
    return CompetitionFactory()


@pytest.fixture
def smiltene(client):
    user = staff_of("smiltenes-novads")
    client.force_login(user)
    return user


@pytest.fixture
def draft(call, smiltene):
    return services.application_start(
        competition=call, municipality=municipality("smiltenes-novads"), by=smiltene
    )


def form_data(application, activities, **general):
    """What the browser posts: the general part, the activities' formset, an action."""
    existing = list(application.activities.order_by("order"))
    data = {
        "contact_name": "Ilze Bērziņa",
        "contact_email": "ilze@example.lv",
        "contact_phone": "+371 64700000",
        "goals": "Sekmēt remigrāciju.",
        "target_groups": "Diaspora",
        "summary": "Brošūra",
        "activities-TOTAL_FORMS": str(len(activities)),
        "activities-INITIAL_FORMS": str(len(existing)),
        "activities-MIN_NUM_FORMS": "0",
        "activities-MAX_NUM_FORMS": "1000",
        "action": "save",
        **general,
    }
    for index, activity in enumerate(activities):
        prefix = f"activities-{index}-"
        row = {
            "category": str(category().pk),
            "title": f"Aktivitāte {index + 1}",
            "description": "Apraksts",
            "starts_on": "2026-12-01",
            "ends_on": "2027-03-01",
            "target_group": "Remigranti",
            "expected_result": "Rezultāts",
            **activity,
        }
        if index < len(existing):
            row["id"] = str(existing[index].pk)
        row["application"] = str(application.pk)
        data.update({prefix + key: value for key, value in row.items()})
    return data


def edit_url(application):
    return reverse("applications:edit", kwargs={"pk": application.pk})


def control(page: str, name: str) -> str:
    """The opening tag of the form control with this name."""
    match = re.search(rf'<(?:input|textarea|select)\b[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    assert match, f"no control named {name}"
    return match.group(0)


def shown(page: str, name: str) -> str:
    """The value a form control shows: an input's value, a textarea's text."""
    tag = control(page, name)
    if tag.startswith("<textarea"):
        text = re.search(rf"{re.escape(tag)}\n?(.*?)</textarea>", page, re.S).group(1)
        return html.unescape(text)
    value = re.search(r'\bvalue="([^"]*)"', tag)
    return html.unescape(value.group(1)) if value else ""


def text_of(page: str, element_id: str) -> str:
    """The text of the element with this id (no element of the same tag nested in it)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</\1>', page, re.S)
    if not match:
        return ""
    return squeezed(html.unescape(re.sub(r"<[^>]+>", " ", match.group(2))))


def field_error(page: str, name: str) -> str:
    """The error shown under a field: the element its ``aria-describedby`` points to."""
    described_by = re.search(r'\baria-describedby="([^"]+)"', control(page, name))
    return text_of(page, described_by.group(1)) if described_by else ""


def valka_draft(call):
    """Valka's draft in ``call``, with 500 € of activities."""
    valka = staff_of("valkas-novads")
    draft = services.application_start(
        competition=call, municipality=municipality("valkas-novads"), by=valka
    )
    services.application_update_draft(
        application=draft,
        by=valka,
        details=DETAILS,
        activities=activities_costing(Decimal("500"), category().pk),
    )
    return draft


def past_deadline_draft(user, **details):
    """A draft of a call whose deadline is 2 March 2030, 17:00 Riga time (15:00 UTC)."""
    with time_machine.travel(datetime(2030, 2, 20, 10, 0, tzinfo=RIGA), tick=False):
        call = CompetitionFactory(closes_at=datetime(2030, 3, 2, 17, 0, tzinfo=RIGA))
        draft = services.application_start(
            competition=call, municipality=municipality("smiltenes-novads"), by=user
        )
        services.application_update_draft(
            application=draft,
            by=user,
            details=services.ApplicationDetails(**details),
            activities=activities_costing(Decimal("500"), category().pk),
        )
    return draft


AFTER_THE_DEADLINE = datetime(2030, 3, 2, 17, 5, tzinfo=RIGA)


# --- dashboard and call page -------------------------------------------------------------------


def test_dashboard_shows_the_open_calls_and_the_municipalitys_applications(client, call, draft):
    response = client.get(reverse("applications:dashboard"))
    assert response.status_code == 200
    page = response.text
    assert call.title in page
    assert spaced("40 000,00 €") in page
    assert spaced("10 000,00 €") in page
    assert "Turpināt pieteikumu" in page
    assert ">Melnraksts<" in page


def test_dashboard_offers_no_continue_for_a_draft_past_its_deadline(client, smiltene):
    draft = past_deadline_draft(smiltene, summary="Brošūra")
    with time_machine.travel(AFTER_THE_DEADLINE, tick=False):
        client.force_login(smiltene)  # a session of that day
        page = client.get(reverse("applications:dashboard")).text
    assert "Turpināt pieteikumu" not in page
    assert edit_url(draft) not in page
    assert draft.get_absolute_url() in page
    assert "Nav iesniegts: termiņš ir beidzies." in page


def test_time_left_reads_in_correct_latvian_on_the_dashboard_and_the_call_page(client, smiltene):
    with time_machine.travel(datetime(2030, 2, 1, 12, 0, tzinfo=RIGA), tick=False):
        client.force_login(smiltene)  # a session of that day
        call = CompetitionFactory(closes_at=datetime(2030, 3, 2, 12, 0, tzinfo=RIGA))
        services.application_start(
            competition=call, municipality=municipality("smiltenes-novads"), by=smiltene
        )
        dashboard = client.get(reverse("applications:dashboard")).text
        call_page = client.get(call.get_absolute_url()).text
        english = client.get("/en" + reverse("applications:dashboard")).text
    assert "vēl 4 nedēļas, 1 diena" in dashboard
    assert "vēl 4 nedēļas, 1 diena" in call_page
    assert "4 weeks, 1 day left" in english


def test_dashboard_does_not_list_calls_the_municipality_is_not_eligible_for(client, smiltene):
    closed_to_us = CompetitionFactory()
    closed_to_us.eligible_municipalities.remove(municipality("smiltenes-novads"))
    response = client.get(reverse("applications:dashboard"))
    assert closed_to_us.title not in response.text


def test_dashboard_needs_a_login(client):
    response = client.get(reverse("applications:dashboard"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def _with_activities(application, user, count):
    services.application_update_draft(
        application=application,
        by=user,
        details=DETAILS,
        activities=[
            services.ActivityData(category_id=category().pk, title=f"A{i}", cost=Decimal("10"))
            for i in range(count)
        ],
    )


def test_portal_pages_take_the_same_queries_for_1_and_12_activities(client, draft, smiltene):
    counts = {}
    for count in (1, 12):
        _with_activities(draft, smiltene, count)
        for url in (reverse("applications:dashboard"), draft.get_absolute_url(), edit_url(draft)):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.setdefault(url, []).append(len(queries))
    for url, numbers in counts.items():
        assert numbers[0] == numbers[1], (url, numbers)
        assert numbers[0] <= 10, (url, numbers)


def test_call_page_offers_to_start_and_then_to_continue(client, call, smiltene):
    response = client.get(call.get_absolute_url())
    assert "Sākt pieteikumu" in response.text
    assert "Vērtēšanas kritēriji" in response.text
    client.post(reverse("applications:start", kwargs={"slug": call.slug}))
    response = client.get(call.get_absolute_url())
    assert "Turpināt pieteikumu" in response.text


def test_call_page_for_the_public_invites_to_log_in(client, call):
    response = client.get(call.get_absolute_url())
    assert response.status_code == 200
    assert "Pieslēgties, lai pieteiktos" in response.text


def test_call_page_names_the_organiser_in_the_language_of_the_page(client, call):
    assert "Vidzemes plānošanas reģions ·" in client.get(call.get_absolute_url()).text
    english = client.get(f"/en{call.get_absolute_url()}").text
    assert "Vidzeme Planning Region ·" in english
    assert "Vidzemes plānošanas reģions ·" not in english


def test_draft_calls_are_not_public(client):
    hidden = CompetitionFactory(status="draft")
    assert client.get(hidden.get_absolute_url()).status_code == 404


# --- starting ----------------------------------------------------------------------------------


def test_start_opens_a_draft_and_goes_to_the_form(client, call, smiltene):
    response = client.post(reverse("applications:start", kwargs={"slug": call.slug}))
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == edit_url(application)
    assert application.municipality.slug == "smiltenes-novads"


def test_start_again_continues_the_existing_application(client, call, draft):
    response = client.post(reverse("applications:start", kwargs={"slug": call.slug}))
    assert response["Location"] == edit_url(draft)
    assert Application.objects.count() == 1


def test_start_for_an_ineligible_municipality_says_why(client, call, smiltene):
    call.eligible_municipalities.remove(municipality("smiltenes-novads"))
    response = client.post(reverse("applications:start", kwargs={"slug": call.slug}), follow=True)
    assert "Smiltenes novads nav starp pašvaldībām" in response.text
    assert not Application.objects.exists()


def test_start_needs_post(client, call, smiltene):
    assert client.get(reverse("applications:start", kwargs={"slug": call.slug})).status_code == 405


# --- the form ----------------------------------------------------------------------------------


def test_saving_a_draft_stores_everything_typed(client, draft):
    data = form_data(draft, [{"cost": "1 500,50"}, {"cost": "2000"}])
    response = client.post(edit_url(draft), data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.requested_amount == Decimal("3500.50")
    assert draft.contact_name == "Ilze Bērziņa"
    assert list(draft.activities.values_list("title", flat=True)) == [
        "Aktivitāte 1",
        "Aktivitāte 2",
    ]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1500", "1500.00"),
        ("1500,50", "1500.50"),
        ("1 500,50", "1500.50"),
        ("1\u00a0500,5", "1500.50"),
        ("1500.50", "1500.50"),
        ("1 500 €", "1500.00"),
    ],
)
def test_amounts_are_read_as_written_in_latvian(client, draft, typed, stored):
    response = client.post(edit_url(draft), form_data(draft, [{"cost": typed}]))
    assert response.status_code == 302
    assert draft.activities.get().cost == Decimal(stored)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-5", "Summai jābūt lielākai par nulli."),
        ("0", "Summai jābūt lielākai par nulli."),
        ("abc", "Ievadiet summu euro, piemēram, 1500 vai 1 500,50."),
        ("1,234", "Ievadiet summu euro, piemēram, 1500 vai 1 500,50."),
        ("12 34", "Ievadiet summu euro, piemēram, 1500 vai 1 500,50."),
        ("99999999999", "Summa ir pārāk liela."),
    ],
)
def test_an_invalid_amount_is_marked_and_kept_as_typed_and_the_rest_is_saved(
    client, draft, typed, message
):
    data = form_data(
        draft,
        [{"cost": "100", "title": "Brošūra ģimenēm"}, {"cost": typed, "title": "Vizīte Īrijā"}],
    )
    data["summary"] = "Kopsavilkums ar garumzīmēm: āčēģīķļņšūž"
    response = client.post(edit_url(draft), data)
    assert response.status_code == 200
    page = response.text
    assert message in page
    assert f'value="{typed}"' in page
    assert 'value="Vizīte Īrijā"' in page
    assert "Kopsavilkums ar garumzīmēm: āčēģīķļņšūž" in page
    assert "Melnraksts ir saglabāts, izņemot tālāk atzīmētos laukus." in page
    # The row with the bad cost is new and has no cost to keep: it is not saved; the rest is.
    draft.refresh_from_db()
    assert list(draft.activities.values_list("title", flat=True)) == ["Brošūra ģimenēm"]
    assert draft.requested_amount == Decimal("100.00")
    assert draft.summary == "Kopsavilkums ar garumzīmēm: āčēģīķļņšūž"


def test_over_the_cap_is_saved_and_the_page_says_by_how_much(client, draft):
    data = form_data(draft, [{"cost": "6000"}, {"cost": spaced("4 500,50")}])
    response = client.post(edit_url(draft), data, follow=True)
    assert response.status_code == 200
    page = response.text
    assert (
        spaced(
            "Pieprasītā summa 10 500,50 € pārsniedz maksimālo finansējumu vienai pašvaldībai "
            "10 000,00 € par 500,50 €."
        )
        in page
    )
    assert spaced('value="4 500,50"') in control(page, "activities-1-cost")
    draft.refresh_from_db()
    assert draft.requested_amount == Decimal("10500.50")
    assert draft.activities.count() == 2
    # The submission still refuses it.
    response = client.post(edit_url(draft), {**form_data(draft, [{}, {}]), "action": "submit"})
    draft.refresh_from_db()
    assert draft.is_draft


def test_removing_an_activity_deletes_it_on_save(client, draft, smiltene):
    client.post(edit_url(draft), form_data(draft, [{"cost": "100"}, {"cost": "200"}]))
    data = form_data(draft, [{"cost": "100"}, {"cost": "200", "DELETE": "on"}])
    client.post(edit_url(draft), data)
    draft.refresh_from_db()
    assert draft.requested_amount == Decimal("100.00")
    assert draft.activities.count() == 1


def test_an_activity_id_of_another_application_cannot_touch_it(client, draft, call):
    other = valka_draft(call)
    foreign = other.activities.first()
    data = form_data(draft, [{"cost": "100"}])
    data["activities-INITIAL_FORMS"] = "1"
    data["activities-0-id"] = str(foreign.pk)
    client.post(edit_url(draft), data)
    foreign.refresh_from_db()
    assert foreign.application == other
    assert foreign.title != "Aktivitāte 1"
    assert other.activities.count() == 2


def test_add_activity_without_javascript_saves_and_offers_an_empty_row(client, draft):
    data = form_data(draft, [{"cost": "100"}], action="add_activity")
    response = client.post(edit_url(draft), data)
    assert response.status_code == 302
    assert response["Location"].endswith("?add=1#activities")
    page = client.get(response["Location"]).text
    assert 'name="activities-TOTAL_FORMS" value="2"' in page


# --- submitting ------------------------------------------------------------------------------


def test_submit_goes_to_the_receipt_with_reference_time_and_sha256(
    client, draft, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            edit_url(draft), form_data(draft, [{"cost": "9800"}], action="submit")
        )
    draft.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("applications:receipt", kwargs={"pk": draft.pk})
    receipt = client.get(response["Location"]).text
    assert draft.reference in receipt
    assert draft.snapshot_sha256 in receipt
    assert spaced("9 800,00 €") in receipt
    assert [message.to for message in mail.outbox] == [[draft.created_by.email]]


def test_submit_of_an_incomplete_draft_saves_it_and_says_what_is_missing(client, draft):
    data = form_data(draft, [{"cost": "100", "description": ""}], summary="")
    response = client.post(edit_url(draft), {**data, "action": "submit"}, follow=True)
    page = response.text
    assert "Melnraksts ir saglabāts, bet to vēl nevar iesniegt" in page
    assert "kopsavilkums" in page
    assert "1. aktivitāte: apraksts" in page
    draft.refresh_from_db()
    assert draft.is_draft
    assert draft.activities.count() == 1


def test_submit_with_missing_fields_marks_each_on_its_field_and_keeps_everything_typed(
    client, draft
):
    data = form_data(
        draft,
        [
            {
                "title": "Brošūra ģimenēm",
                "cost": "1 500,50",
                "description": "",
                "target_group": "",
            },
            {"title": "Vizīte Īrijā", "cost": "2000", "starts_on": "", "expected_result": ""},
        ],
        contact_email="",
        summary="",
        goals="Sekmēt remigrāciju: āčēģīķļņšūž",
        action="submit",
    )
    response = client.post(edit_url(draft), data)

    assert response.status_code == 200
    page = response.text
    # The summary at the top, as before...
    summary = text_of(page, "form-errors")
    assert "Melnraksts ir saglabāts, bet to vēl nevar iesniegt" in summary
    assert "kopsavilkums; 1. aktivitāte: apraksts" in summary
    # ...and each missing field marked invalid, its message next to it.
    for name in [
        "contact_email",
        "summary",
        "activities-0-description",
        "activities-0-target_group",
        "activities-1-starts_on",
        "activities-1-expected_result",
    ]:
        assert 'aria-invalid="true"' in control(page, name), name
        assert "is-invalid" in control(page, name), name
        assert field_error(page, name) == FILL_IN, name
    for name in ["contact_name", "goals", "activities-0-title", "activities-1-description"]:
        assert "aria-invalid" not in control(page, name), name
    # Everything typed is on the page.
    assert shown(page, "contact_name") == "Ilze Bērziņa"
    assert shown(page, "goals") == "Sekmēt remigrāciju: āčēģīķļņšūž"
    assert shown(page, "target_groups") == "Diaspora"
    assert shown(page, "summary") == ""
    assert shown(page, "activities-0-title") == "Brošūra ģimenēm"
    assert shown(page, "activities-0-cost") == spaced("1 500,50")
    assert shown(page, "activities-0-ends_on") == "2027-03-01"
    assert shown(page, "activities-1-title") == "Vizīte Īrijā"
    assert shown(page, "activities-1-cost") == spaced("2 000,00")
    assert shown(page, "activities-1-ends_on") == "2027-03-01"
    # The draft is saved, and the rows on the page are the saved ones: saving it again
    # updates them rather than adding them twice.
    draft.refresh_from_db()
    assert draft.is_draft
    assert draft.goals == "Sekmēt remigrāciju: āčēģīķļņšūž"
    saved = list(draft.activities.order_by("order"))
    assert [activity.title for activity in saved] == ["Brošūra ģimenēm", "Vizīte Īrijā"]
    assert shown(page, "activities-INITIAL_FORMS") == "2"
    assert [shown(page, f"activities-{i}-id") for i in (0, 1)] == [str(a.pk) for a in saved]


def test_submit_without_activities_comes_back_saying_so_with_the_general_part_kept(client, draft):
    typed = {
        "contact_name": "Ilze Bērziņa",
        "contact_email": "ilze@example.lv",
        "contact_phone": "+371 64700000",
        "goals": "Sekmēt remigrāciju: āčēģīķļņšūž",
        "target_groups": "Diaspora, remigrantu ģimenes",
        "summary": "Brošūra un vizītes",
    }
    response = client.post(edit_url(draft), form_data(draft, [], **typed, action="submit"))

    assert response.status_code == 200
    page = response.text
    message = "Pirms iesniegšanas pievienojiet vismaz vienu plānoto aktivitāti."
    assert message in text_of(page, "form-errors")
    assert message in text_of(page, "activities-errors")
    assert {name: shown(page, name) for name in typed} == typed
    # An empty row to start the first activity in.
    assert shown(page, "activities-TOTAL_FORMS") == "1"
    draft.refresh_from_db()
    assert draft.is_draft
    assert draft.reference is None


def test_submit_after_the_deadline_is_refused_with_the_deadline_named(client, smiltene):
    call = CompetitionFactory(closes_at=timezone.now() + timedelta(hours=1))
    draft = services.application_start(
        competition=call, municipality=municipality("smiltenes-novads"), by=smiltene
    )
    with time_machine.travel(call.closes_at, tick=False):
        response = client.post(
            edit_url(draft), form_data(draft, [{"cost": "100"}], action="submit")
        )
    assert response.status_code == 200
    assert "iesniegšanas termiņš beidzās" in response.text
    assert "vairs nevar mainīt vai iesniegt" in text_of(response.text, "deadline-passed")
    assert 'value="100"' in response.text
    # No button offers to save or submit what can no longer be saved or submitted.
    assert 'name="action"' not in response.text
    draft.refresh_from_db()
    assert draft.is_draft


def test_a_draft_past_its_deadline_opens_as_its_page_saying_it_can_no_longer_be_changed(
    client, smiltene
):
    draft = past_deadline_draft(smiltene, summary="Video stāsti par remigrantiem")
    with time_machine.travel(AFTER_THE_DEADLINE, tick=False):
        client.force_login(smiltene)  # a session of that day
        response = client.get(edit_url(draft))
        assert response.status_code == 302
        assert response["Location"] == draft.get_absolute_url()
        page = client.get(response["Location"]).text
    notice = text_of(page, "deadline-passed")
    # The deadline in Riga time (15:00 UTC).
    assert "termiņš beidzās 02.03.2030. 17:00 (pēc Rīgas laika)" in notice
    assert "To vairs nevar mainīt vai iesniegt" in notice
    assert "Video stāsti par remigrantiem" in page
    assert edit_url(draft) not in page
    assert "Turpināt rediģēt" not in page


def test_a_draft_before_its_deadline_still_opens_as_the_form(client, smiltene):
    draft = past_deadline_draft(smiltene)
    with time_machine.travel(datetime(2030, 3, 2, 16, 55, tzinfo=RIGA), tick=False):
        client.force_login(smiltene)  # a session of that day
        response = client.get(edit_url(draft))
    assert response.status_code == 200
    assert 'name="action" value="submit"' in response.text
    assert "vēl 5 minūtes" in response.text


def test_submitted_application_is_read_only(client, draft, smiltene):
    client.post(edit_url(draft), form_data(draft, [{"cost": "100"}], action="submit"))
    draft.refresh_from_db()
    assert not draft.is_draft
    response = client.get(edit_url(draft))
    assert response.status_code == 302
    assert response["Location"] == draft.get_absolute_url()
    for action in ("save", "submit"):
        posted = client.post(edit_url(draft), form_data(draft, [{"cost": "999"}], action=action))
        assert posted.status_code == 302
        assert posted["Location"] == draft.get_absolute_url()
        said = [str(message) for message in get_messages(posted.wsgi_request)]
        assert said[-1] == "Šis pieteikums ir iesniegts, un to vairs nevar mainīt.", said
    draft.refresh_from_db()
    assert draft.requested_amount == Decimal("100.00")


# --- documents -------------------------------------------------------------------------------


def test_documents_are_attached_listed_and_served_as_attachments(client, draft):
    data = form_data(draft, [{"cost": "100"}])
    data["new_documents"] = [
        SimpleUploadedFile("Budžets 2019.pdf", PDF, content_type="application/pdf"),
        SimpleUploadedFile(
            "../../plāns.docx", docx_bytes(), content_type="application/octet-stream"
        ),
    ]
    response = client.post(edit_url(draft), data)
    assert response.status_code == 302
    documents = list(draft.documents.order_by("id"))
    assert [d.original_name for d in documents] == ["Budžets_2019.pdf", "plāns.docx"]
    assert documents[0].content_type == "application/pdf"
    assert "Budžets_2019.pdf" in client.get(edit_url(draft)).text
    assert ".." not in documents[1].file.name
    download = client.get(
        reverse(
            "applications:document_download",
            kwargs={"pk": draft.pk, "document_pk": documents[0].pk},
        )
    )
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "budzets.pdf",
            b"<html><script>alert(1)</script></html>",
            "nav PDF, DOCX, XLSX, ODT, JPG, PNG fails",
        ),
        (
            "programma.exe",
            b"MZ\x90\x00" + b"\x00" * 100,
            "nav PDF, DOCX, XLSX, ODT, JPG, PNG fails",
        ),
        ("attels.png", PDF, "nav PDF, DOCX, XLSX, ODT, JPG, PNG fails"),
        ("tukss.pdf", b"", "Fails “tukss.pdf” ir tukšs."),
    ],
)
def test_a_document_that_is_not_what_it_claims_is_refused_and_the_rest_is_saved(
    client, draft, name, content, message
):
    data = form_data(draft, [{"cost": "100"}])
    data["new_documents"] = [SimpleUploadedFile(name, content)]
    response = client.post(edit_url(draft), data)
    assert response.status_code == 200
    assert message in response.text
    assert "izvēlieties tos vēlreiz" in response.text
    assert not SupportingDocument.objects.exists()
    assert draft.activities.count() == 1


def test_a_document_over_10_mb_is_refused(client, draft):
    data = form_data(draft, [{"cost": "100"}])
    data["new_documents"] = [SimpleUploadedFile("liels.pdf", PDF + b"0" * (10 * 1024 * 1024))]
    response = client.post(edit_url(draft), data)
    assert "10 MB" in response.text
    assert not SupportingDocument.objects.exists()


def test_a_document_can_be_removed_while_in_draft(
    client, draft, django_capture_on_commit_callbacks
):
    data = form_data(draft, [{"cost": "100"}])
    data["new_documents"] = [SimpleUploadedFile("a.pdf", PDF)]
    client.post(edit_url(draft), data)
    document = draft.documents.get()
    stored = document.file.name
    assert default_storage.exists(stored)
    data = form_data(draft, [{"cost": "100"}])
    data["remove_documents"] = [str(document.pk)]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(edit_url(draft), data)
    assert not draft.documents.exists()
    assert not default_storage.exists(stored)


# --- another municipality's application ---------------------------------------------------------


def test_every_url_of_another_municipalitys_application_answers_404(client, call):
    valka = staff_of("valkas-novads")
    theirs = services.application_start(
        competition=call, municipality=municipality("valkas-novads"), by=valka
    )
    services.application_save_draft(
        application=theirs,
        by=valka,
        details=DETAILS,
        activities=activities_costing(Decimal("500"), category().pk),
        new_files=[SimpleUploadedFile("valka.pdf", PDF)],
    )
    document = theirs.documents.get()
    client.force_login(staff_of("smiltenes-novads"))
    urls = [
        reverse("applications:detail", kwargs={"pk": theirs.pk}),
        reverse("applications:edit", kwargs={"pk": theirs.pk}),
        reverse("applications:delete", kwargs={"pk": theirs.pk}),
        reverse(
            "applications:document_download", kwargs={"pk": theirs.pk, "document_pk": document.pk}
        ),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("applications:delete", kwargs={"pk": theirs.pk})).status_code == 404
    services.application_submit(application=theirs, by=valka)
    for name in ("detail", "receipt", "withdraw"):
        assert (
            client.get(reverse(f"applications:{name}", kwargs={"pk": theirs.pk})).status_code == 404
        )
    assert (
        client.post(reverse("applications:withdraw", kwargs={"pk": theirs.pk})).status_code == 404
    )
    theirs.refresh_from_db()
    assert theirs.status == Application.Status.SUBMITTED


def test_saving_or_submitting_another_municipalitys_draft_answers_404_and_changes_nothing(
    client, call
):
    theirs = valka_draft(call)
    client.force_login(staff_of("smiltenes-novads"))
    for action in ("save", "submit"):
        data = form_data(theirs, [{"cost": "900"}], action=action, summary="Svešs")
        assert client.post(edit_url(theirs), data).status_code == 404, action
    missing = reverse("applications:edit", kwargs={"pk": theirs.pk + 1000})
    assert client.post(missing, form_data(theirs, [], action="submit")).status_code == 404
    theirs.refresh_from_db()
    assert (theirs.status, theirs.summary, theirs.requested_amount) == (
        Application.Status.DRAFT,
        DETAILS.summary,
        Decimal("500.00"),
    )


# --- withdrawing and deleting --------------------------------------------------------------------


def test_withdraw_asks_for_confirmation_then_withdraws(client, draft):
    client.post(edit_url(draft), form_data(draft, [{"cost": "100"}], action="submit"))
    url = reverse("applications:withdraw", kwargs={"pk": draft.pk})
    confirm = client.get(url)
    assert "Atsaukt pieteikumu?" in confirm.text
    draft.refresh_from_db()
    assert draft.status == Application.Status.SUBMITTED
    response = client.post(url, follow=True)
    draft.refresh_from_db()
    assert draft.status == Application.Status.WITHDRAWN
    assert "ir atsaukts" in response.text


def test_delete_draft_asks_for_confirmation_then_deletes(client, draft):
    url = reverse("applications:delete", kwargs={"pk": draft.pk})
    assert "Dzēst melnrakstu?" in client.get(url).text
    response = client.post(url)
    assert response["Location"] == reverse("applications:dashboard")
    assert not Application.objects.exists()


def test_receipt_of_a_draft_does_not_exist(client, draft):
    assert client.get(reverse("applications:receipt", kwargs={"pk": draft.pk})).status_code == 404


def test_application_page_in_english(client, draft):
    response = client.get("/en" + draft.get_absolute_url())
    assert response.status_code == 200
    assert "Planned activities" in response.text
    assert "Continue editing" in response.text


def test_digits_of_other_scripts_are_not_amounts(client, draft):
    response = client.post(edit_url(draft), form_data(draft, [{"cost": "١٢٣"}]))
    assert response.status_code == 200
    assert "Ievadiet summu euro" in response.text


def test_every_field_a_submission_needs_is_marked_and_the_form_says_what_saving_needs(
    client, draft
):
    page = client.get(edit_url(draft) + "?add=1").text
    assert "Ar * atzīmētie lauki ir jāaizpilda, lai pieteikumu iesniegtu." in page
    needed = [
        *services.REQUIRED_TO_SUBMIT,
        *(f"activities-0-{name}" for name in services.ACTIVITY_REQUIRED_TO_SUBMIT),
        "activities-0-category",
        "activities-0-title",
        "activities-0-cost",
    ]
    for name in needed:
        label = re.search(rf'<label\s[^>]*for="id_{name}"[^>]*>(.*?)</label>', page, re.S)
        assert label, f"no label for {name}"
        assert "*" in label.group(1), f"{name} is not marked"
    # The phone is not needed, and is not marked.
    phone = re.search(r'<label\s[^>]*for="id_contact_phone"[^>]*>(.*?)</label>', page, re.S)
    assert "*" not in phone.group(1)


def test_a_chosen_file_not_kept_is_said_next_to_the_file_field(client, draft):
    # A refusal of the whole save (an activity of another application) keeps no file.
    foreign = PlannedActivityFactory()
    data = form_data(draft, [{"cost": "100"}])
    data["activities-0-id"] = str(foreign.pk)
    data["new_documents"] = [SimpleUploadedFile("budzets.pdf", PDF)]
    page = client.post(edit_url(draft), data).text
    field = page.index('name="new_documents"')
    note = page.index('id="files-not-attached"')
    assert field < note < page.index("</section>", field)
    assert "izvēlieties tos vēlreiz. budzets.pdf" in page
    assert not SupportingDocument.objects.exists()


def test_the_dashboard_and_the_application_page_colour_a_draft_apart_from_a_decision(client, draft):
    dashboard = client.get(reverse("applications:dashboard")).text
    assert 'class="badge text-bg-light border status-draft">Melnraksts</span>' in dashboard


def test_a_rejected_and_an_awarded_application_wear_different_colours(client, decided_call):
    pages = {}
    for slug in ["cesvaines-novads", "smiltenes-novads"]:
        client.force_login(decided_call.staff[slug])
        application = decided_call.applications[slug]
        pages[slug] = client.get(reverse("applications:detail", kwargs={"pk": application.pk})).text
    assert (
        'class="badge fs-6 text-bg-danger status-rejected" id="status">Noraidīts</span>'
        in (pages["cesvaines-novads"])
    )
    assert (
        'class="badge fs-6 text-bg-success status-awarded" id="status">'
        in (pages["smiltenes-novads"])
    )


# --- a draft saved in part ------------------------------------------------------------------


def shown_ids(page: str) -> dict[str, str]:
    """The activity rows' hidden ids as the page shows them, by field name."""
    tags = re.findall(r'<input type="hidden" name="activities-\d+-id"[^>]*>', page)
    return {
        re.search(r'name="([^"]+)"', tag).group(1): re.search(r'value="(\d*)"', tag).group(1)
        for tag in tags
        if 'value="' in tag
    }


def test_a_draft_with_a_mistyped_e_mail_saves_its_title_and_activities(client, draft):
    data = form_data(draft, [{"cost": "100", "title": "Brošūra"}], contact_email="ilze@@example")
    data["summary"] = "Jauns kopsavilkums"
    response = client.post(edit_url(draft), data)
    assert response.status_code == 200
    page = response.text
    assert "Melnraksts ir saglabāts, izņemot tālāk atzīmētos laukus." in page
    assert 'value="ilze@@example"' in control(page, "contact_email")
    assert 'aria-invalid="true"' in control(page, "contact_email")
    draft.refresh_from_db()
    assert draft.summary == "Jauns kopsavilkums"
    assert draft.contact_email == ""  # as saved before
    assert list(draft.activities.values_list("title", flat=True)) == ["Brošūra"]
    assert draft.requested_amount == Decimal("100.00")


def test_a_mistyped_e_mail_keeps_the_one_saved_before(client, draft):
    client.post(edit_url(draft), form_data(draft, [{"cost": "100"}]))
    client.post(edit_url(draft), form_data(draft, [{"cost": "100"}], contact_email="nav-epasts"))
    draft.refresh_from_db()
    assert draft.contact_email == "ilze@example.lv"


def test_reversed_dates_are_marked_and_the_other_fields_are_saved(client, draft):
    client.post(edit_url(draft), form_data(draft, [{"cost": "100"}]))
    data = form_data(
        draft,
        [
            {
                "cost": "250",
                "title": "Jauns nosaukums",
                "starts_on": "2027-05-02",
                "ends_on": "2027-05-01",
            },
            {"cost": "300", "title": "Otrā"},
        ],
        goals="Jauni mērķi",
    )
    page = client.post(edit_url(draft), data).text
    assert "Aktivitāte nevar beigties pirms tās sākuma." in page
    assert 'value="2027-05-01"' in control(page, "activities-0-ends_on")
    assert 'value="2027-05-02"' in control(page, "activities-0-starts_on")
    draft.refresh_from_db()
    assert draft.goals == "Jauni mērķi"
    first, second = draft.activities.order_by("order")
    # The row's other fields are saved; its dates keep the pair saved before.
    assert (first.title, first.cost) == ("Jauns nosaukums", Decimal("250.00"))
    assert (first.starts_on.isoformat(), first.ends_on.isoformat()) == ("2026-12-01", "2027-03-01")
    assert (second.title, second.cost) == ("Otrā", Decimal("300.00"))
    assert draft.requested_amount == Decimal("550.00")


def test_saving_again_after_a_partial_save_does_not_duplicate_activities(client, draft):
    data = form_data(
        draft,
        [
            {"cost": "100", "title": "Pirmā"},
            {"cost": "abc", "title": "Bez izmaksām"},
            {"cost": "200", "title": "Trešā", "starts_on": "2027-05-02", "ends_on": "2027-05-01"},
        ],
        contact_email="nav-epasts",
    )
    page = client.post(edit_url(draft), data).text
    saved = {a.title: a.pk for a in draft.activities.all()}
    assert set(saved) == {"Pirmā", "Trešā"}
    # The page carries the new rows' ids; the row that could not be saved has none.
    assert shown_ids(page) == {
        "activities-0-id": str(saved["Pirmā"]),
        "activities-2-id": str(saved["Trešā"]),
    }
    # The user corrects the cost and the e-mail and saves what the page holds.
    again = {**data, **shown_ids(page), "activities-1-cost": "50", "contact_email": "a@b.lv"}
    again["activities-2-ends_on"] = "2027-06-01"
    response = client.post(edit_url(draft), again)
    assert response.status_code == 302
    draft.refresh_from_db()
    rows = list(draft.activities.order_by("order").values_list("title", "cost"))
    assert rows == [
        ("Pirmā", Decimal("100.00")),
        ("Bez izmaksām", Decimal("50.00")),
        ("Trešā", Decimal("200.00")),
    ]
    assert draft.requested_amount == Decimal("350.00")
    assert draft.contact_email == "a@b.lv"


def test_a_partly_saved_draft_is_not_submitted(client, draft):
    data = form_data(draft, [{"cost": "100"}], contact_email="nav-epasts", action="submit")
    page = client.post(edit_url(draft), data).text
    assert "Pieteikums netika iesniegts." in page
    draft.refresh_from_db()
    assert draft.is_draft
    assert draft.activities.count() == 1


def test_a_row_added_to_a_draft_is_saved_to_it_after_another_municipality_opened_its_own(client):
    """The new row's card is made once for a call and shared by its drafts: it names no
    draft, and a row added from it on a second municipality's draft is saved to that draft."""
    call = CompetitionFactory()
    opened = []
    for slug in ("smiltenes-novads", "valkas-novads"):
        user = staff_of(slug)
        draft = services.application_start(
            competition=call, municipality=municipality(slug), by=user
        )
        client.force_login(user)
        page = client.get(edit_url(draft)).content.decode()
        card = page.split('id="activity-template"')[1].split("</template>")[0]
        opened.append((user, draft, card))
    (_smiltene, first, card), (_valka, second, second_card) = opened
    assert card == second_card
    assert 'name="activities-__prefix__-title"' in card
    assert "activities-__prefix__-application" not in card
    # Valka's staff add a row from the card and save: the browser posts the card's fields,
    # its hidden ones as the card holds them.
    data = form_data(second, [{"title": "Seminārs Valkā", "cost": "700"}])
    del data["activities-0-application"]
    hidden = re.findall(r'<input type="hidden" name="activities-__prefix__-(\w+)"([^>]*)>', card)
    assert hidden
    for name, attributes in hidden:
        value = re.search(r'value="([^"]*)"', attributes)
        data[f"activities-0-{name}"] = value.group(1) if value else ""
    response = client.post(edit_url(second), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(second.activities.values_list("title", "cost")) == [
        ("Seminārs Valkā", Decimal("700.00"))
    ]
    assert not first.activities.exists()
