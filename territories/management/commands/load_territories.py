from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils.translation import gettext as _

from territories.services import DEFAULT_PATH, TerritoriesDataError, load_territories

LABELS = {
    "regions": "régions",
    "departements": "départements",
    "epci": "EPCI",
    "communes": "communes",
    "collectivities": "collectivités",
}


class Command(BaseCommand):
    help = (
        "Charge ou met à jour les régions, départements, EPCI, communes et collectivités "
        "(COG 2026) depuis le fichier de données du dépôt. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--file",
            type=Path,
            default=DEFAULT_PATH,
            help=_("Fichier gzip à charger (par défaut : %(default)s)."),
        )

    def handle(self, *args, file: Path, **options):
        try:
            report = load_territories(path=file)
        except TerritoriesDataError as error:
            raise CommandError(
                _("%(error)s\nAucune modification n'a été faite.") % {"error": error}
            ) from error
        except DatabaseError as error:
            # The load is one transaction: whatever failed, it was rolled back as a whole.
            raise CommandError(
                _("Erreur de base de données : %(error)s\nAucune modification n'a été faite.")
                % {"error": error}
            ) from error

        source = report.source
        self.stdout.write(
            _("Territoires de %(package)s %(version)s chargés en %(seconds).1f s :")
            % {**source, "seconds": report.seconds}
        )
        for kind, counts in report.kinds.items():
            line = _(
                "  %(label)-14s %(created)6d créations, %(updated)6d mises à jour, "
                "%(unchanged)6d sans changement, %(deleted)4d suppressions"
            ) % {"label": LABELS[kind], **vars(counts)}
            self.stdout.write(line)
            if counts.kept:
                self.stdout.write(
                    self.style.WARNING(
                        _(
                            "  %(count)d %(label)s absents du COG mais encore référencés, "
                            "conservés : %(codes)s"
                        )
                        % {
                            "count": len(counts.kept),
                            "label": LABELS[kind],
                            "codes": ", ".join(counts.kept),
                        }
                    )
                )
        if report.changed:
            self.stdout.write(self.style.SUCCESS(_("Territoires à jour.")))
        else:
            self.stdout.write(
                self.style.SUCCESS(_("Aucun changement : les territoires étaient déjà à jour."))
            )
