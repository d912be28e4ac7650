"""The public results page of a call: before the decision, that results are pending; after it,
the awards in words, as a chart and as a table, with each grant's stage (its plan being agreed,
its agreement being signed, in progress, declined...), what was paid to it, and, once its
final report is accepted, what it spent per category and what was done. The call's totals:
awarded, paid, spent, returned. The results in words and the chart are
``applications.results``'; the stage and the money after the decision are the grants'.

The public CSV carries the same columns.
"""

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from applications import selectors
from applications.results import results_chart, results_summary
from competitions.models import Competition
from competitions.spreadsheets import escape_formula

from .models import Grant, ReportKind, ReportLine, ReportStatus

ZERO = Decimal("0.00")


@dataclass
class GrantAccount:
    """A grant's money as the public sees it: paid, returned, and the accepted spending per
    category with what was done (empty until the final report is accepted)."""

    stage: Grant.Status
    paid: Decimal
    repaid: Decimal
    spent: Decimal | None
    by_category: list[tuple[str, Decimal]] = field(default_factory=list)
    done: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class CallTotals:
    awarded: Decimal
    paid: Decimal
    spent: Decimal
    returned: Decimal


def grant_accounts(competition: Competition) -> dict[str, GrantAccount]:
    """Each grant of the call by its application's reference. Two queries, whatever the
    number of grants and lines: the grants, and the lines of their accepted final reports."""
    grants = Grant.objects.filter(application__competition=competition).values_list(
        "pk", "application__reference", "status", "paid_total", "repaid_total", "accepted_total"
    )
    accounts, references = {}, {}
    for pk, reference, status, paid, repaid, accepted in grants:
        accounts[reference] = GrantAccount(Grant.Status(status), paid, repaid, accepted)
        references[pk] = reference
    lines = (
        ReportLine.objects.filter(
            report__grant__application__competition=competition,
            report__kind=ReportKind.FINAL,
            report__status=ReportStatus.ACCEPTED,
        )
        .select_related("plan_line__category", "report")
        .order_by("report__grant_id", "position")
    )
    spending: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for line in lines:
        reference = references[line.report.grant_id]
        spending[reference][line.plan_line.category.name] += line.accepted_amount
        if line.done:
            accounts[reference].done.append((line.plan_line.title, line.done))
    for reference, categories in spending.items():
        accounts[reference].by_category = sorted(categories.items())
    return accounts


def call_totals(results, accounts: dict[str, GrantAccount]) -> CallTotals:
    return CallTotals(
        awarded=results.total_awarded,
        paid=sum((a.paid for a in accounts.values()), ZERO),
        spent=sum((a.spent for a in accounts.values() if a.spent is not None), ZERO),
        returned=sum((a.repaid for a in accounts.values()), ZERO),
    )


@require_safe
def competition_results(request, slug):
    """Five queries whatever the number of applications: the call, the eligible count, the
    applications with their categories, the grants, the lines of their accepted reports."""
    competition = get_object_or_404(Competition.objects.published(), slug=slug)
    if not competition.is_decided:
        return render(request, "applications/results_pending.html", {"competition": competition})
    results = selectors.competition_results(competition=competition)
    accounts = grant_accounts(competition)
    rows = [(row, accounts.get(row.reference)) for row in results.rows]
    return render(
        request,
        "applications/results.html",
        {
            "competition": competition,
            "results": results,
            "rows": rows,
            "reported": [
                (row, account) for row, account in rows if account and account.by_category
            ],
            "totals": call_totals(results, accounts),
            "summary": results_summary(results),
            "chart": results_chart(results),
        },
    )


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


@require_safe
def competition_results_csv(request, slug):
    """The results table as CSV, with the same columns as the page: the award, the stage,
    what was paid, spent and returned, and the spending per category."""
    competition = get_object_or_404(Competition.objects.decided(), slug=slug)
    results = selectors.competition_results(competition=competition)
    accounts = grant_accounts(competition)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{competition.slug}-results.csv"'
    response.write("\ufeff")  # so that spreadsheet programs read the Latvian letters right
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Municipality"),
            _("Reference"),
            _("Requested (EUR)"),
            _("Awarded (EUR)"),
            _("Activity categories"),
            _("Stage"),
            _("Paid (EUR)"),
            _("Spent (EUR)"),
            _("Returned (EUR)"),
            _("Spending by category"),
        ]
    )
    for row in results.rows:
        account = accounts.get(row.reference)
        writer.writerow(
            [
                escape_formula(str(row.municipality)),
                escape_formula(row.reference),
                f"{row.requested:.2f}",
                f"{row.awarded:.2f}",
                escape_formula("; ".join(str(category) for category in row.categories)),
                escape_formula(capfirst(str(account.stage.label))) if account else "",
                _amount(account.paid) if account else "",
                _amount(account.spent) if account else "",
                _amount(account.repaid) if account else "",
                escape_formula(
                    "; ".join(f"{name}: {amount:.2f}" for name, amount in account.by_category)
                )
                if account
                else "",
            ]
        )
    totals = call_totals(results, accounts)
    writer.writerow(
        [
            _("Total"),
            "",
            f"{results.total_requested:.2f}",
            f"{results.total_awarded:.2f}",
            "",
            "",
            _amount(totals.paid),
            _amount(totals.spent),
            _amount(totals.returned),
            "",
        ]
    )
    return response
