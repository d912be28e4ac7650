"""The public results of a decided call: the results in words and as a chart.

They live at the call's address (``/competitions/<slug>/results/``). The page and its CSV are
the grants' (``grants/results.py``): after the decision they show each grant's stage and money
too.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, ngettext_lazy, pgettext_lazy

from competitions import results_cache
from competitions.formatting import format_money

from .models import ApplicationStatus
from .selectors import ResultRow, Results, ResultsOverview

OUTCOME_SENTENCES = [
    (
        "funded_in_full",
        ngettext_lazy(
            "%(count)s municipality is funded in full.",
            "%(count)s municipalities are funded in full.",
            "count",
        ),
    ),
    (
        "funded_in_part",
        ngettext_lazy(
            "%(count)s municipality is funded in part.",
            "%(count)s municipalities are funded in part.",
            "count",
        ),
    ),
    (
        "not_funded",
        ngettext_lazy(
            "%(count)s municipality is not funded.",
            "%(count)s municipalities are not funded.",
            "count",
        ),
    ),
]


def results_summary(results: Results | ResultsOverview) -> list[str]:
    """The results in words, as a press release would put them."""
    call = results.competition.title
    sentences = [
        ngettext(
            "%(applied)s of the %(eligible)s eligible municipality applied to the call “%(call)s”.",
            "%(applied)s of the %(eligible)s eligible municipalities applied to the call “%(call)s”.",
            results.eligible,
        )
        % {"applied": results.applied, "eligible": results.eligible, "call": call}
    ]
    for attribute, text in OUTCOME_SENTENCES:
        if count := getattr(results, attribute):
            sentences.append(text % {"count": count})
    sentences.append(
        _("The pool was %(pool)s; %(awarded)s is awarded.")
        % {
            "pool": format_money(results.pool, "EUR"),
            "awarded": format_money(results.total_awarded, "EUR"),
        }
    )
    # Money the decision did not give out, or that came back after it (a plan agreed for less,
    # an award declined), is the call's and is said so.
    if results.total_awarded < results.pool:
        sentences.append(
            _("%(unallocated)s of the pool is unallocated.")
            % {"unallocated": format_money(results.pool - results.total_awarded, "EUR")}
        )
    return sentences


CHART_WIDTH, CHART_LABEL, CHART_ROW = 760, 190, 46


@dataclass(frozen=True)
class ChartBar:
    label: str
    requested: Decimal
    awarded: Decimal


#: The chart's outcomes, short enough for the drawing's column of labels.
OUTCOME_LABELS = {
    "funded_in_full": pgettext_lazy("results chart", "in full"),
    "funded_in_part": pgettext_lazy("results chart", "in part"),
    "not_funded": pgettext_lazy("results chart", "not funded"),
    "declined": pgettext_lazy("results chart", "declined"),
}


def chart_bars(overview: ResultsOverview, rows: Sequence[ResultRow]) -> tuple[str, list[ChartBar]]:
    """The chart's title and bars: one bar a municipality where the whole call is on the page
    (``rows``), else one an outcome, summed over the whole call, so that the drawing stays
    the size of a page however many municipalities applied."""
    if overview.applied <= len(rows):
        return _("Requested and awarded, by municipality"), [
            ChartBar(row.municipality, row.requested, row.awarded) for row in rows
        ]
    bars = []
    for outcome, label in OUTCOME_LABELS.items():
        totals = overview.outcomes[outcome]
        if totals.count:
            bars.append(
                ChartBar(
                    f"{capfirst(str(label))} ({totals.count})", totals.requested, totals.awarded
                )
            )
    return _("Requested and awarded, by outcome"), bars


def results_chart(title: str, bars: Sequence[ChartBar]) -> dict:
    """Bar geometry for the server-drawn SVG: requested against awarded, one row each."""
    largest = max((max(bar.requested, bar.awarded) for bar in bars), default=Decimal(0))
    span = CHART_WIDTH - CHART_LABEL - 130  # room on the right for the amounts

    def width(amount: Decimal) -> float:
        return round(float(amount / largest) * span, 1) if largest else 0.0

    drawn = [
        {
            "bar": bar,
            "y": 10 + index * CHART_ROW,
            "requested_width": width(bar.requested),
            "awarded_width": width(bar.awarded),
            "requested_text_x": CHART_LABEL + width(bar.requested) + 6,
            "awarded_text_x": CHART_LABEL + width(bar.awarded) + 6,
            # The phone's bars: a share of the widest, in percent.
            "requested_percent": round(width(bar.requested) / span * 100, 1) if span else 0,
            "awarded_percent": round(width(bar.awarded) / span * 100, 1) if span else 0,
        }
        for index, bar in enumerate(bars)
    ]
    return {
        "title": title,
        "bars": drawn,
        "width": CHART_WIDTH,
        "label": CHART_LABEL,
        "height": 40 + len(drawn) * CHART_ROW,
    }


def application_changed(sender, instance, **kwargs):
    """Receiver: an application's award, status or reason, shown on its call's public results
    once decided, changed. A draft is shown nowhere, and an application is submitted only
    while its call takes submissions, long before the decision: until then the call's results
    page says they are pending, and nothing of it is cached. Saving either costs nothing here."""
    if instance.status not in (ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED):
        results_cache.bump_after_commit(instance.competition_id)
