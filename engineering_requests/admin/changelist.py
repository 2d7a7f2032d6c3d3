"""A change list that never counts the table (DESIGN §8).

The stock admin counts the filtered queryset (and, unless disabled, the whole table) on every
page. Here a page fetches one row more than it shows: that row tells whether a next page
exists, and the page shows "previous / next" instead of numbered pages. Cost: one query, a
LIMIT on an indexed ordering, whatever the size of the table.
"""

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList


class NextPagePaginator:
    """What the admin's templates expect of ``cl.paginator``, without a count."""

    def __init__(self, page_num: int, has_next: bool):
        self.page_num = page_num
        self.has_next = has_next

    def get_elided_page_range(self, number=1, **kwargs):
        last = self.page_num + 1 if self.has_next else self.page_num
        return range(max(1, self.page_num - 1), last + 1)


class NextPageChangeList(ChangeList):
    prefetch: tuple = ()

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        if self.prefetch:
            queryset = queryset.prefetch_related(*self.prefetch)
        return queryset

    def get_results(self, request):
        per_page = self.list_per_page
        if self.page_num < 1:
            raise IncorrectLookupParameters
        offset = (self.page_num - 1) * per_page
        rows = list(self.queryset[offset : offset + per_page + 1])
        if not rows and self.page_num > 1:
            raise IncorrectLookupParameters
        self.has_next_page = len(rows) > per_page
        self.result_list = rows[:per_page]
        self.first_index = offset + 1 if self.result_list else 0
        self.last_index = offset + len(self.result_list)
        # ``result_count`` is a lower bound: the admin's own templates only compare it to the
        # page size (to offer "select across all pages"), which stays right.
        self.result_count = self.last_index + (1 if self.has_next_page else 0)
        self.full_result_count = None
        self.show_full_result_count = False
        self.show_admin_actions = True
        self.can_show_all = False
        self.multi_page = self.has_next_page or self.page_num > 1
        self.paginator = NextPagePaginator(self.page_num, self.has_next_page)
        self.previous_page_url = (
            self.get_query_string({"p": self.page_num - 1}) if self.page_num > 1 else None
        )
        self.export_query = self.get_query_string(remove=["p"])
        self.next_page_url = (
            self.get_query_string({"p": self.page_num + 1}) if self.has_next_page else None
        )


def changelist_class(*prefetch):
    """A ``NextPageChangeList`` that prefetches the given relations for the page shown."""
    return type("PrefetchingChangeList", (NextPageChangeList,), {"prefetch": tuple(prefetch)})
