import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from engineering_requests.demo import ACCOUNTS, DemoDataError, create_demo_data

DEFAULT_PASSWORD = "demo-ingenierie-2026"  # noqa: S105 - demo accounts only, printed on purpose


class Command(BaseCommand):
    help = "Create demo accounts and about fifty requests in every state (development only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even when DEBUG is off (never in production)."
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "Refusing to create demo accounts with DEBUG off. Use --force on a test instance."
            )
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        try:
            report = create_demo_data(password=password)
        except DemoDataError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Demo data: {report['accounts']} accounts, {report['requests_created']} requests "
            "created" + (" (requests already there)" if not report["requests_created"] else "")
        )
        self.stdout.write(f"Demo accounts (password: {password}):")
        for email, (first_name, last_name, job_title) in ACCOUNTS.items():
            self.stdout.write(f"  {email:24} {first_name} {last_name}, {job_title}")
