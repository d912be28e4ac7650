"""The public results of a call, at the call's address: the project's URLconf includes them
under ``competitions/``, beside the call's own pages. The page and its CSV are the grants'
(they show each grant's stage and money)."""

from django.urls import path

from .results import competition_results, competition_results_csv

app_name = "results"

urlpatterns = [
    path("<slug:slug>/results/", competition_results, name="detail"),
    path("<slug:slug>/results.csv", competition_results_csv, name="csv"),
]
