from django.urls import path

from . import views

app_name = "applications"

urlpatterns = [
    path("<int:pk>/", views.application_detail, name="detail"),
    path(
        "<int:pk>/documents/<int:document_pk>/",
        views.document_download,
        name="document_download",
    ),
    path("<int:pk>/letters/<int:letter_pk>/", views.letter_download, name="letter_download"),
]
