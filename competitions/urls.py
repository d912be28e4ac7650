from django.urls import path

from . import views

app_name = "competitions"

urlpatterns = [
    path("<slug:slug>/", views.competition_detail, name="detail"),
    path("<slug:slug>/regulations/", views.competition_regulations, name="regulations"),
    path("<slug:slug>/results/", views.competition_results, name="results"),
    path("<slug:slug>/results.csv", views.competition_results_csv, name="results_csv"),
]
