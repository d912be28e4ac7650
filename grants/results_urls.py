"""The public results of a call, at the call's address: the project's URLconf includes them
under ``competitions/``, beside the call's own pages. The page is the grants' (it shows each
grant's stage); the CSV of the awards is the applications'."""

from django.urls import path

from applications.results import competition_results_csv

from .results import competition_results

app_name = "results"

urlpatterns = [
    path("<slug:slug>/results/", competition_results, name="detail"),
    path("<slug:slug>/results.csv", competition_results_csv, name="csv"),
]
