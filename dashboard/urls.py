from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("tableau-de-bord/", views.kpi, name="kpi"),
    path("statistiques/", views.public, name="public"),
    path("statistiques/statistiques-ingenierie.csv", views.public_csv, name="public_csv"),
]
