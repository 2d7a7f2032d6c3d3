import json

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import export_personal_data


class Command(BaseCommand):
    help = "Export, as JSON, everything the portal holds about the account with this e-mail."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--output", "-o", help="write to this file instead of the output")

    def handle(self, *args, **options):
        user = User.objects.filter(email__iexact=options["email"].strip()).first()
        if user is None:
            raise CommandError(f"No account with the e-mail {options['email']!r}.")
        text = json.dumps(export_personal_data(user=user), indent=2, ensure_ascii=False)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            self.stderr.write(f"Personal data of account {user.pk} written to {options['output']}")
        else:
            self.stdout.write(text)
