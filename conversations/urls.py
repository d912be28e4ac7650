from django.urls import path

from . import views

app_name = "conversations"

urlpatterns = [
    path("<int:pk>/", views.thread, name="thread"),
    path("<int:pk>/write/", views.write, name="write"),
    path("<int:pk>/objection/", views.objection, name="objection"),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/",
        views.attachment_download,
        name="attachment",
    ),
]
