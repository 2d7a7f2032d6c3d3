from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import delete_account


class Command(BaseCommand):
    help = (
        "Delete (anonymise) the account with this e-mail: identity, e-mail and phone replaced by "
        "a tombstone, no password, no role; the audit trail keeps its links and reads "
        "« Compte supprimé ». Export the data first if the person asked for it."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument(
            "--yes", action="store_true", help="do it (without it, only say what would happen)"
        )

    def handle(self, *args, **options):
        email = options["email"].strip()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No account with the e-mail {email!r}.")
        if not options["yes"]:
            self.stdout.write(
                f"Account {user.pk} ({user.email}) would be anonymised. Run again with --yes."
            )
            return
        result = delete_account(user=user, by=None)
        removed = ", ".join(f"{name} {count}" for name, count in result.removed.items())
        self.stdout.write(
            f"Account {result.user.pk} anonymised as {result.user.email}; removed: {removed}."
        )
