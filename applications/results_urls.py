"""The public results of a decided call, at the call's address: the project's URLconf
includes them under ``competitions/``, beside the call's own pages."""

from django.urls import path

from . import results

app_name = "results"

urlpatterns = [
    path("<slug:slug>/results/", results.competition_results, name="detail"),
    path("<slug:slug>/results.csv", results.competition_results_csv, name="csv"),
]
