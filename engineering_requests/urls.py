from django.urls import path

from engineering_requests import views

app_name = "engineering_requests"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("suivies/", views.followed_list, name="followed"),
    path("nouvelle/", views.request_create, name="create"),
    path("<int:pk>/", views.request_detail, name="detail"),
    path("<int:pk>/modifier/", views.request_edit, name="edit"),
    path("<int:pk>/deposer/", views.request_submit, name="submit"),
    path("<int:pk>/confirmation/", views.request_confirmation, name="confirmation"),
    path("<int:pk>/complement/", views.request_provide_info, name="provide_info"),
    path("<int:pk>/message/", views.request_message, name="message"),
    path("<int:pk>/point-d-avancement/", views.request_progress_note, name="progress_note"),
    path("<int:pk>/retrait/", views.request_withdraw, name="withdraw"),
    path(
        "<int:pk>/pieces-jointes/<int:attachment_pk>/",
        views.attachment_download,
        name="attachment",
    ),
]
