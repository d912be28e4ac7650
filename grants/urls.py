from django.urls import path

from . import views

app_name = "grants"

urlpatterns = [
    path("", views.grant_list, name="list"),
    path("<int:pk>/", views.grant_detail, name="detail"),
    path("<int:pk>/plan/", views.plan_edit, name="plan"),
    path("<int:pk>/decline/", views.grant_decline, name="decline"),
]
