from django.urls import path

from . import views

app_name = "grants"

urlpatterns = [
    path("", views.grant_list, name="list"),
    path("<int:pk>/", views.grant_detail, name="detail"),
    path("<int:pk>/plan/", views.plan_edit, name="plan"),
    path("<int:pk>/decline/", views.grant_decline, name="decline"),
    path("<int:pk>/agreement/", views.agreement, name="agreement"),
    path("<int:pk>/agreement/accept/", views.agreement_accept, name="agreement_accept"),
    path("<int:pk>/agreement/upload/", views.agreement_upload, name="agreement_upload"),
    path(
        "<int:pk>/agreement/<int:agreement_pk>/<slug:kind>/",
        views.agreement_download,
        name="agreement_download",
    ),
    path("<int:pk>/reports/<slug:kind>/", views.report_edit, name="report"),
    path("<int:pk>/reports/version/<int:report_pk>/", views.report_version, name="report_version"),
    path(
        "<int:pk>/reports/documents/<int:document_pk>/",
        views.report_document,
        name="report_document",
    ),
    path(
        "<int:pk>/closing-statement/<slug:language>/",
        views.closing_statement,
        name="closing_statement",
    ),
]
