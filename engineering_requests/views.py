from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from engineering_requests import selectors


@login_required
def request_list(request):
    requests = (
        selectors.visible_to(request.user)
        .select_related("collectivity")
        .order_by("-last_transition_at")[:50]
    )
    return render(request, "engineering_requests/list.html", {"requests": requests})


@login_required
def request_create(request):
    return render(request, "engineering_requests/list.html", {"requests": []})


@login_required
def request_detail(request, pk):
    engineering_request = get_object_or_404(selectors.visible_to(request.user), pk=pk)
    return render(
        request,
        "engineering_requests/detail.html",
        {
            "engineering_request": engineering_request,
            "timeline": selectors.timeline(engineering_request),
            "messages_thread": selectors.messages_for(engineering_request, request.user),
        },
    )
