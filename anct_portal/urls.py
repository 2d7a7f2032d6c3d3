from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from anct_portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("territoires/", include("territories.urls")),
    path("admin/", admin.site.urls),
    path("demandes/", include("engineering_requests.urls")),
    path("", include("programmes.urls")),
    path("", include("dashboard.urls")),
    path("notifications/", include("notifications.urls")),
    path("compte/", include("accounts.urls")),
]

if settings.BENCH_BASELINE:
    urlpatterns.append(path("__bench__/baseline/", views.bench_baseline, name="bench_baseline"))
