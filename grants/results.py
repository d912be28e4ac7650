"""The public results page of a call: before the decision, that results are pending; after it,
the awards in words, as a chart and as a table, with each grant's stage (its plan being agreed,
its agreement being signed, in progress, declined...). The results in words and the chart are
``applications.results``'; the stage is the grants'.
"""

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from applications import selectors
from applications.results import results_chart, results_summary
from competitions.models import Competition

from .models import Grant


@require_safe
def competition_results(request, slug):
    """Four queries whatever the number of applications: the call, the eligible count, the
    applications with their categories, the grants' stages."""
    competition = get_object_or_404(Competition.objects.published(), slug=slug)
    if not competition.is_decided:
        return render(request, "applications/results_pending.html", {"competition": competition})
    results = selectors.competition_results(competition=competition)
    stages = dict(
        Grant.objects.filter(application__competition=competition).values_list(
            "application__reference", "status"
        )
    )
    rows = [
        (row, Grant.Status(stages[row.reference]) if row.reference in stages else None)
        for row in results.rows
    ]
    return render(
        request,
        "applications/results.html",
        {
            "competition": competition,
            "results": results,
            "rows": rows,
            "summary": results_summary(results),
            "chart": results_chart(results),
        },
    )
