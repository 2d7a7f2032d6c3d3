from django.core.management.base import BaseCommand

from dashboard import facts


class Command(BaseCommand):
    help = (
        "Recompute the dashboards' copy of the requests (dashboard_requestfact) from the requests "
        "table, and reinstall its triggers. Needed after writing requests with triggers disabled "
        "(bulk COPY); harmless at any time."
    )

    def handle(self, *args, **options):
        count = facts.rebuild(reinstall=True)
        self.stdout.write(f"Dashboard facts rebuilt: {count} submitted requests.")
