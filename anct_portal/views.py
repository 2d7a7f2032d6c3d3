from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from anct_portal.health import check_broker, check_database
from territories.models import Departement


def home(request):
    return render(request, "portal/home.html")


@never_cache
@require_GET
def healthz(request):
    database_ok, database = check_database()
    broker_ok, broker = check_broker()
    healthy = database_ok and broker_ok
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "database": database, "broker": broker},
        status=200 if healthy else 503,
    )


@require_GET
def bench_baseline(request):
    """The benchmark's floor: one indexed query and a tiny template, through the same
    middleware as every page. Routed only when ``BENCH_BASELINE`` is set (``make bench``)."""
    departement = Departement.objects.filter(code=request.GET.get("code", "23")).first()
    return render(request, "bench/baseline.html", {"departement": departement})
