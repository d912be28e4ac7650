from django.urls import path

from . import views

app_name = "competitions"

urlpatterns = [
    path("<slug:slug>/", views.competition_detail, name="detail"),
    path("<slug:slug>/regulations/", views.competition_regulations, name="regulations"),
]
