from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/ouvrir/", views.open_notification, name="open"),
    path("<int:pk>/lue/", views.mark_read, name="mark_read"),
    path("tout-marquer-lu/", views.mark_all_read, name="mark_all_read"),
    path("preferences/", views.preferences, name="preferences"),
    path("dev/mails/", views.dev_mails, name="dev_mails"),
]
