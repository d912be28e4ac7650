"""The screens of payments, reports and the close: the municipality's report pages on the
portal, the coordinators' payment, review and close screens and the portfolio in the admin,
the payment register, the closing statement."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from competitions.models import Municipality
from grants import settlement
from grants.models import Grant, Payment, Report

from .amounts import spaced, squeezed
from .factories import PDF, coordinator, grant_in_progress, grants_in_progress, staff_of
from .test_agreements import pdf_text
from .test_grants_settlement import TODAY, lines_of, pay, submitted

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def gulbene():
    grant = grant_in_progress("gulbenes-novads", amount=Decimal("5000.00"))
    return grant, grant.municipality.staff.get(), coordinator("vpr-screens")


def report_post(grant, costs, action="save", **extra):
    plan = settlement.approved_plan(grant)
    data = {"action": action, "summary": "Paveiktais"}
    for line, cost in zip(plan.lines.order_by("position"), costs, strict=True):
        data.update(
            {
                f"line-{line.pk}-done": "Izdota brošūra",
                f"line-{line.pk}-actual_cost": cost,
                f"line-{line.pk}-people_reached": "150",
                f"line-{line.pk}-events_held": "1",
                f"line-{line.pk}-materials_produced": "500",
            }
        )
    return {**data, **extra}


# --- the municipality's report ---------------------------------------------------------------


def test_staff_save_a_draft_and_a_refused_submission_keeps_it_and_names_the_line(gulbene):
    grant, staff, _vpr = gulbene
    client = signed_in(staff)
    url = reverse("grants:report", args=[grant.pk, "final"])
    page = squeezed(client.get(url).content.decode())
    assert "Informatīvā brošūra" in page
    assert spaced("3 300,00 €") in page

    response = client.post(url, report_post(grant, ["3 400,00", "1 000"], action="submit"))
    assert response.status_code == 200
    page = squeezed(response.content.decode())
    assert "Melnraksts ir saglabāts, bet to vēl nevar iesniegt" in page
    assert "Informatīvā brošūra" in page
    assert spaced("3 400,00 €") in page
    report = Report.objects.get(grant=grant)
    assert (report.status, report.claimed_total) == (Report.Status.DRAFT, Decimal("4400.00"))
    assert 'value="3 400,00"' in page  # as typed


def test_staff_attach_an_invoice_submit_and_get_the_receipt(
    gulbene, django_capture_on_commit_callbacks
):
    grant, staff, _vpr = gulbene
    client = signed_in(staff)
    url = reverse("grants:report", args=[grant.pk, "final"])
    client.post(
        url,
        report_post(
            grant,
            ["3000", "2000"],
            document=SimpleUploadedFile("rekins.pdf", PDF),
            document_description="Tipogrāfijas rēķins",
        ),
    )
    assert Report.objects.get().documents.get().original_name == "rekins.pdf"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, report_post(grant, ["3000", "2000"], action="submit"))
    report = Report.objects.get()
    assert response["Location"] == reverse("grants:report_version", args=[grant.pk, report.pk])
    receipt = client.get(response["Location"]).content.decode()
    assert report.sha256 in receipt
    assert "rekins.pdf" in receipt
    document = report.documents.get()
    download = client.get(reverse("grants:report_document", args=[grant.pk, document.pk]))
    assert b"".join(download.streaming_content) == PDF
    # Sent as the type its content was checked to be, as a download under the name given.
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="rekins.pdf"'
    # The coordinators are told, and the form leads to the receipt while the report waits.
    assert client.get(url)["Location"] == response["Location"]


def test_another_municipalitys_staff_get_404_on_every_report_address(gulbene):
    grant, staff, vpr = gulbene
    report = submitted(grant, staff, ["3000", "2000"])
    document = report.documents.get()
    stranger = signed_in(staff_of("valkas-novads", "valka-screens"))
    for url in [
        reverse("grants:report", args=[grant.pk, "final"]),
        reverse("grants:report_version", args=[grant.pk, report.pk]),
        reverse("grants:report_document", args=[grant.pk, document.pk]),
        reverse("grants:closing_statement", args=[grant.pk, "lv"]),
    ]:
        assert stranger.get(url).status_code == 404, url
    # The coordinator downloads the evidence as the staff do.
    response = signed_in(vpr).get(reverse("grants:report_document", args=[grant.pk, document.pk]))
    assert b"".join(response.streaming_content) == PDF


def test_the_grant_page_shows_the_next_step_with_the_due_date_overdue_in_red(gulbene):
    grant, staff, _vpr = gulbene
    grant.competition.__class__.objects.filter(pk=grant.competition.pk).update(
        interim_report_due_on=None, report_due_on=TODAY
    )
    page = signed_in(staff).get(reverse("grants:detail", args=[grant.pk])).content.decode()
    assert "text-danger" in page
    assert "Nokavēts" in page
    listing = signed_in(staff).get(reverse("grants:list")).content.decode()
    assert "Nokavēts" in listing


# --- the coordinators' screens ---------------------------------------------------------------


def test_the_coordinator_records_the_advance_and_a_refusal_keeps_what_was_typed(gulbene):
    grant, _staff, vpr = gulbene
    client = signed_in(vpr)
    url = reverse("admin:grants_grant_pay", args=[grant.pk])
    page = client.get(url).content.decode()
    assert spaced("2 500,00 €") in page  # the advance proposed
    data = {"kind": "advance", "amount": "2 600", "paid_on": "2026-12-01", "reference": "MU-77"}
    refused = squeezed(client.post(url, data).content.decode())
    assert spaced("100,00 €") in refused
    assert 'value="MU-77"' in refused
    assert not Payment.objects.exists()
    response = client.post(url, {**data, "amount": "2 500,00"})
    assert response.status_code == 302
    assert Grant.objects.get(pk=grant.pk).paid_total == Decimal("2500.00")


def test_the_coordinator_returns_a_line_then_accepts_less_with_the_reason(gulbene):
    grant, staff, vpr = gulbene
    report = submitted(grant, staff, ["3000", "2000"])
    line = report.lines.order_by("position")[1]
    client = signed_in(vpr)
    url = reverse("admin:grants_report_review", args=[report.pk])
    response = client.post(url, {"action": "return", f"comment-{line.pk}": "Pievienojiet rēķinu"})
    assert response.status_code == 302
    page = signed_in(staff).get(reverse("grants:report", args=[grant.pk, "final"])).content.decode()
    assert "Pievienojiet rēķinu" in page
    second = settlement.report_submit(
        report=settlement.report_save_draft(
            grant=grant, kind="final", by=staff, summary="", lines=lines_of(grant, ["3000", "2000"])
        ),
        by=staff,
    )
    url = reverse("admin:grants_report_review", args=[second.pk])
    first = second.lines.order_by("position")[0]
    refused = client.post(url, {"action": "accept", f"accepted-{first.pk}": "2 900,00"})
    assert "2 900,00" in squeezed(refused.content.decode()).replace("\xa0", " ")
    assert Report.objects.get(pk=second.pk).status == Report.Status.SUBMITTED
    client.post(
        url,
        {
            "action": "accept",
            f"accepted-{first.pk}": "2 900,00",
            f"reason-{first.pk}": "Viens rēķins",
        },
    )
    assert Grant.objects.get(pk=grant.pk).accepted_total == Decimal("4900.00")


def test_closing_names_the_difference_then_closes_and_the_statement_is_a_pdf_in_both_languages(
    gulbene,
):
    grant, staff, vpr = gulbene
    pay(grant, vpr, "advance", "2500.00")
    settlement.report_accept(report=submitted(grant, staff, ["3000", "2000"]), by=vpr)
    client = signed_in(vpr)
    url = reverse("admin:grants_grant_close", args=[grant.pk])
    refused = squeezed(client.post(url).content.decode())
    assert spaced("2 500,00 €") in refused
    pay(grant, vpr, "final", "2500.00")
    assert client.post(url).status_code == 302
    for language, words in [
        ("lv", "Izziņa par finansējuma slēgšanu"),
        ("en", "Grant closing statement"),
    ]:
        response = signed_in(staff).get(
            reverse("grants:closing_statement", args=[grant.pk, language])
        )
        assert response["Content-Type"] == "application/pdf"
        text = pdf_text(response.content)
        assert words in text
        assert ("5 000,00 EUR" if language == "lv" else "EUR") in text.replace("\xa0", " ")


def test_the_portfolio_costs_the_same_queries_however_many_grants(django_assert_max_num_queries):
    vpr = coordinator("vpr-portfolio")
    small = grants_in_progress(["gulbenes-novads"], by=vpr)["gulbenes-novads"].competition
    large = grants_in_progress(
        ["valkas-novads", "cesu-novads", "smiltenes-novads", "valmieras-pilseta"], by=vpr
    )["cesu-novads"]
    settlement.payment_record(
        grant=large, by=vpr, kind="advance", amount=Decimal("100.00"), paid_on=TODAY, reference="M"
    )
    client = signed_in(vpr)
    base = reverse("admin:grants_grant_changelist") + "?application__competition__id__exact="
    client.get(base + str(small.pk))
    with django_assert_max_num_queries(40) as one:
        client.get(base + str(small.pk))
    url = base + str(large.competition.pk)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get(url).content.decode()
    assert page.count('class="field-status"') == 4
    assert spaced("100,00 €") in page


def test_the_payment_register_escapes_formulas_in_csv_and_xlsx(gulbene):
    grant, _staff, vpr = gulbene
    Municipality.objects.filter(pk=grant.municipality.pk).update(name="=HYPERLINK(1)")
    pay(grant, vpr, "advance", "2500.00", reference="@MU-1")
    client = signed_in(vpr)
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(
                    client.get(
                        reverse("admin:grants_payment_register", args=[grant.competition.pk, "csv"])
                    ).streaming_content
                ).decode("utf-8-sig")
            )
        )
    )
    assert rows[1][0] == "'=HYPERLINK(1)"
    assert rows[1][3] == "2500.00"
    assert rows[1][5] == "'@MU-1"
    assert rows[1][1].startswith("VPR/")  # the agreement's number
    xlsx = client.get(reverse("admin:grants_payment_register", args=[grant.competition.pk, "xlsx"]))
    assert "no-store" in xlsx["Cache-Control"]
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert sheet["A2"].value == "=HYPERLINK(1)"
    assert sheet["A2"].data_type == "s"
    assert sheet["A2"].quotePrefix
    assert sheet["D2"].value == 2500
    assert sheet["D2"].number_format == '#,##0.00 "€"'
    assert sheet["E2"].is_date
    assert sheet.freeze_panes == "A2"


def test_the_public_csv_carries_the_stage_and_the_money_of_each_grant(gulbene, client):
    grant, staff, vpr = gulbene
    pay(grant, vpr, "advance", "2500.00")
    settlement.report_accept(report=submitted(grant, staff, ["1500", "500"]), by=vpr)
    pay(grant, vpr, "repayment", "500.00")
    settlement.grant_close(grant=grant, by=vpr)
    response = client.get(reverse("results:csv", args=[grant.competition.slug]))
    rows = list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    assert rows[0][5:] == [
        "Posms",
        "Izmaksāts (EUR)",
        "Izlietots (EUR)",
        "Atmaksāts (EUR)",
        "Izlietojums pa kategorijām",
    ]
    row = next(r for r in rows if r[0] == "Gulbenes novads")
    assert row[5:9] == ["Slēgts", "2500.00", "2000.00", "500.00"]
    assert "Informatīvo materiālu sagatavošana: 1500.00" in row[9]
    assert rows[-1][6:9] == ["2500.00", "2000.00", "500.00"]
    page = squeezed(client.get(reverse("results:detail", args=[grant.competition.slug])).text)
    accountability = page[page.index('id="accountability"') :]
    assert "Atmaksāts" in accountability
    assert spaced("500,00 €") in accountability


def test_the_portfolio_names_an_overdue_report_in_words_not_with_a_tick(gulbene):
    grant, _staff, vpr = gulbene
    type(grant.competition).objects.filter(pk=grant.competition.pk).update(
        report_due_on=TODAY.replace(year=TODAY.year - 1)
    )
    page = signed_in(vpr).get(reverse("admin:grants_grant_changelist")).content.decode()
    assert '<strong class="text-overdue">nokavēts</strong>' in page
    assert "icon-yes.svg" not in page


def test_the_dashboard_shows_each_grants_next_step_and_an_overdue_report_in_red(gulbene):
    grant, staff, _vpr = gulbene
    dashboard = reverse("applications:dashboard")
    page = squeezed(signed_in(staff).get(dashboard).content.decode())
    assert 'id="dashboard-grants"' in page
    assert grant.application.reference in page
    assert "text-danger" not in page.split('id="dashboard-grants"')[1]

    type(grant.competition).objects.filter(pk=grant.competition.pk).update(
        interim_report_due_on=None, report_due_on=TODAY.replace(year=TODAY.year - 1)
    )
    page = squeezed(signed_in(staff).get(dashboard).content.decode())
    grants = page.split('id="dashboard-grants"')[1]
    due = TODAY.replace(year=TODAY.year - 1).strftime("%d.%m.%Y")
    assert f"Nokavēts: pārskata iesniegšanas termiņš bija {due}." in grants
    assert 'text-danger-emphasis fw-semibold" id="report-due"' in grants
    # A grant whose life is over has nothing left to do: the dashboard leaves it out.
    type(grant).objects.filter(pk=grant.pk).update(status="terminated")
    page = signed_in(staff).get(dashboard).content.decode()
    assert 'id="dashboard-grants"' not in page
