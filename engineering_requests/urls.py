from django.urls import path

from engineering_requests import views

app_name = "engineering_requests"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("nouvelle/", views.request_create, name="create"),
    path("<int:pk>/", views.request_detail, name="detail"),
]
