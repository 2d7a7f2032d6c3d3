from django.urls import path

from programmes import views

app_name = "programmes"

urlpatterns = [
    path("programmes/", views.programme_list, name="programme_list"),
    path("programmes/<slug:code>/", views.programme_detail, name="programme_detail"),
    path("domaines-prioritaires/", views.domain_list, name="domain_list"),
    path("territoires/", views.territory_search, name="territory_search"),
    path("territoires/communes/<str:code>/", views.commune_detail, name="commune"),
    path("territoires/epci/<str:siren>/", views.epci_detail, name="epci"),
]
