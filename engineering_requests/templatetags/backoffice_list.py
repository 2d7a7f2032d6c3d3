"""``{% backoffice_result_list cl %}``: the admin's ``{% result_list cl %}``, with rows built by
``changelist.fast_results`` (same markup, a fraction of the time)."""

from django import template
from django.contrib.admin.templatetags import admin_list

from engineering_requests.admin.changelist import fast_results

register = template.Library()


@register.inclusion_tag("admin/change_list_results.html")
def backoffice_result_list(cl):
    results = fast_results(cl)
    if results is None:
        return admin_list.result_list(cl)
    headers = list(admin_list.result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": [],
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": results,
    }
