"""The public results page of a call: before the decision, that results are pending; after it,
the awards in words, as a chart and as a table, with each grant's stage (its plan being agreed,
its agreement being signed, in progress, declined...), what was paid to it, and, once its
final report is accepted, what it spent per category and what was done. The call's totals:
awarded, paid, spent, returned. The results in words and the chart are
``applications.results``'; the stage and the money after the decision are the grants'.

The page shows its table a page at a time (the words, the chart and the totals are the whole
call's, summed in the database) and is kept in the cache until anything it shows changes
(``competitions.results_cache``). The public CSV carries the same columns, for the whole call,
in the same order: streamed a batch of applications at a time as it is read (each batch with
its own grants' accounts), its totals summed in the database, never held whole.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from django.core.cache import cache
from django.core.paginator import InvalidPage, Paginator
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.text import capfirst
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from applications import selectors
from applications.models import Application
from applications.results import chart_bars, results_chart, results_summary
from competitions import results_cache
from competitions.models import Competition
from competitions.spreadsheets import csv_pieces, escape_formula

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


def grant_accounts(
    competition: Competition, *, applications: list[int] | None = None
) -> dict[str, GrantAccount]:
    """Each grant of the call by its application's reference (of ``applications`` only, when
    given: a page of the results). Two queries, whatever the number of grants and lines: the
    grants, and the lines of their accepted final reports."""
    grants = Grant.objects.filter(application__competition=competition)
    if applications is not None:
        grants = grants.filter(application__in=applications)
    grants = grants.values_list(
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
    if applications is not None:
        lines = lines.filter(report__grant__application__in=applications)
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


def call_money(competition: Competition, awarded: Decimal) -> CallTotals:
    """The call's totals as ``call_totals`` has them, summed in the database: one query."""
    sums = Grant.objects.filter(application__competition=competition).aggregate(
        paid=Coalesce(Sum("paid_total"), ZERO),
        spent=Coalesce(Sum("accepted_total"), ZERO),
        returned=Coalesce(Sum("repaid_total"), ZERO),
    )
    return CallTotals(awarded=awarded, **sums)


#: Applications on a page of the results. With the longest texts the portal takes (a reason
#: of 1 000 characters on every row, every category on every application, the texts of what
#: was done cut as the page cuts them) a page stays under 300 KB of HTML.
RESULTS_PAGE_SIZE = 50


def _page_number(request) -> int:
    number = request.GET.get("page", "1")
    if not number.isdigit() or int(number) < 1:
        raise Http404(_("There is no such page of the results."))
    return int(number)


def results_content(competition: Competition, number: int) -> str:
    """The results page's own content (everything but the site's header, which greets the
    signed-in user): the whole call in words, as a chart and as totals, and page ``number``
    of its table. Seven queries whatever the size of the call; ``Http404`` past the last page."""
    overview = selectors.results_overview(competition=competition)
    paginator = Paginator(
        selectors.decided_applications(competition=competition), RESULTS_PAGE_SIZE
    )
    paginator.count = overview.applied  # counted with the sums: no query more
    try:
        page = paginator.page(number)
    except InvalidPage as error:
        raise Http404(_("There is no such page of the results.")) from error
    results = [selectors.result_row(application) for application in page.object_list]
    accounts = grant_accounts(
        competition, applications=[application.pk for application in page.object_list]
    )
    rows = [(row, accounts.get(row.reference)) for row in results]
    return render_to_string(
        "applications/results_content.html",
        {
            "competition": competition,
            "results": overview,
            "rows": rows,
            "page": page,
            "page_range": paginator.get_elided_page_range(number, on_each_side=2, on_ends=1),
            "reported": [
                (row, account) for row, account in rows if account and account.by_category
            ],
            "totals": call_money(competition, overview.total_awarded),
            "summary": results_summary(overview),
            "chart": results_chart(*chart_bars(overview, results)),
        },
    )


@require_safe
def competition_results(request, slug):
    """The public results of a call. A page of them is kept in the cache for its call and
    language (``competitions.results_cache``) until anything it shows changes: a visitor
    after the first makes one query, the call's."""
    competition = get_object_or_404(Competition.objects.published(), slug=slug)
    if not competition.is_decided:
        return render(request, "applications/results_pending.html", {"competition": competition})
    number = _page_number(request)
    key = results_cache.page_key(
        competition_id=competition.pk, language=get_language(), page=number
    )
    content = cache.get(key)
    if content is None:
        content = results_content(competition, number)
        cache.set(key, content, results_cache.page_timeout())
    return render(
        request,
        "applications/results.html",
        {"competition": competition, "content": content, "page_number": number},
    )


def grant_changed(sender, instance, **kwargs):
    """Receiver: a grant's stage or money, shown on its call's results, changed. Its call is
    read after the commit, unless the grant came with its application."""
    if "application" in instance._state.fields_cache:
        results_cache.bump_after_commit(instance.application.competition_id)
    else:
        application = instance.application_id
        results_cache.bump_after_commit(
            lambda: (
                Application.objects.filter(pk=application)
                .values_list("competition_id", flat=True)
                .first()
            )
        )


def report_changed(sender, instance, **kwargs):
    """Receiver: an accepted final report's spending and what was done are on the results."""
    if instance.status == ReportStatus.ACCEPTED and instance.kind == ReportKind.FINAL:
        grant = instance.grant_id
        results_cache.bump_after_commit(
            lambda: (
                Grant.objects.filter(pk=grant)
                .values_list("application__competition_id", flat=True)
                .first()
            )
        )


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


#: Applications the public CSV reads and writes at a time: a batch of rows from the database's
#: cursor, then their grants' accounts. Memory and queries grow with the batch, not the call.
CSV_BATCH_SIZE = 1000


def _csv_headings() -> list[str]:
    return [
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


def _csv_row(row: selectors.ResultRow, account: GrantAccount | None) -> list[str]:
    return [
        escape_formula(str(row.municipality)),
        escape_formula(row.reference),
        f"{row.requested:.2f}",
        f"{row.awarded:.2f}",
        escape_formula("; ".join(str(category) for category in row.categories)),
        escape_formula(capfirst(str(account.stage.label))) if account else "",
        _amount(account.paid) if account else "",
        _amount(account.spent) if account else "",
        _amount(account.repaid) if account else "",
        escape_formula("; ".join(f"{name}: {amount:.2f}" for name, amount in account.by_category))
        if account
        else "",
    ]


def results_csv(competition: Competition, *, language: str | None = None) -> Iterator[str]:
    """The results table as CSV text, ``CSV_BATCH_SIZE`` applications at a time, in the page's
    order (``selectors.decided_applications``, read from a server-side cursor), each batch
    with its own grants' accounts; then the call's totals, summed in the database. Written in
    ``language`` (the current one when not given), whenever the text is read. Three queries
    a batch (the activities' categories and the two of ``grant_accounts``) and four besides:
    the rows', and the three of the totals (``results_overview``, ``call_money``)."""
    language = language or get_language()

    def batches():
        # Each batch is written in the language, and let go of it before it is handed on.
        with override(language):
            headings = [escape_formula(heading) for heading in _csv_headings()]
        yield [headings]
        applications = selectors.decided_applications(competition=competition).iterator(
            chunk_size=CSV_BATCH_SIZE
        )
        while batch := list(islice(applications, CSV_BATCH_SIZE)):
            with override(language):
                accounts = grant_accounts(
                    competition, applications=[application.pk for application in batch]
                )
                rows = [selectors.result_row(application) for application in batch]
                written = [_csv_row(row, accounts.get(row.reference)) for row in rows]
            yield written
        overview = selectors.results_overview(competition=competition)
        totals = call_money(competition, overview.total_awarded)
        with override(language):
            total = escape_formula(_("Total"))
        yield [
            [
                total,
                "",
                f"{overview.total_requested:.2f}",
                f"{totals.awarded:.2f}",
                "",
                "",
                _amount(totals.paid),
                _amount(totals.spent),
                _amount(totals.returned),
                "",
            ]
        ]

    return csv_pieces(batches())


@require_safe
def competition_results_csv(request, slug):
    """The results table as CSV, with the same columns as the page: the award, the stage,
    what was paid, spent and returned, and the spending per category; streamed as it is read
    (``results_csv``), so that neither the file nor the call is ever held whole."""
    competition = get_object_or_404(Competition.objects.decided(), slug=slug)
    response = StreamingHttpResponse(
        results_csv(competition), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{competition.slug}-results.csv"'
    return response
