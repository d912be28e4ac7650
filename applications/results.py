"""The public results of a decided call: the results in words and as a chart.

They live at the call's address (``/competitions/<slug>/results/``). The page and its CSV are
the grants' (``grants/results.py``): after the decision they show each grant's stage and money
too.
"""

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, ngettext_lazy

from competitions.formatting import format_money

from .selectors import Results

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


def results_summary(results: Results) -> list[str]:
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


def results_chart(results: Results) -> dict:
    """Bar geometry for the server-drawn SVG: requested against awarded, one row each."""
    largest = max((max(row.requested, row.awarded) for row in results.rows), default=Decimal(0))
    span = CHART_WIDTH - CHART_LABEL - 130  # room on the right for the amounts

    def width(amount: Decimal) -> float:
        return round(float(amount / largest) * span, 1) if largest else 0.0

    bars = [
        {
            "row": row,
            "y": 10 + index * CHART_ROW,
            "requested_width": width(row.requested),
            "awarded_width": width(row.awarded),
            "requested_text_x": CHART_LABEL + width(row.requested) + 6,
            "awarded_text_x": CHART_LABEL + width(row.awarded) + 6,
            # The phone's bars: a share of the widest, in percent.
            "requested_percent": round(width(row.requested) / span * 100, 1) if span else 0,
            "awarded_percent": round(width(row.awarded) / span * 100, 1) if span else 0,
        }
        for index, row in enumerate(results.rows)
    ]
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "label": CHART_LABEL,
        "height": 40 + len(bars) * CHART_ROW,
    }
