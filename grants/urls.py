from django.urls import path

from . import views

app_name = "grants"

urlpatterns = [
    path("<int:pk>/agreement/", views.agreement, name="agreement"),
    path("<int:pk>/agreement/accept/", views.agreement_accept, name="agreement_accept"),
    path("<int:pk>/agreement/upload/", views.agreement_upload, name="agreement_upload"),
    path(
        "<int:pk>/agreement/<int:agreement_pk>/<slug:kind>/",
        views.agreement_download,
        name="agreement_download",
    ),
]
