from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from programmes.member_files import MemberFileError, listed
from programmes.models import Programme
from programmes.services import import_programme_members, unknown_code_lines


class Command(BaseCommand):
    help = (
        "Remplace la liste des membres d'un programme par celle d'un fichier CSV (colonnes "
        "territoire_id, territoire_nom, code_membre, nom_membre, date_signature, "
        "source_layer ; UTF-8). Tout ou rien, en une transaction ; les codes inconnus sont "
        "listés et ignorés."
    )

    def add_arguments(self, parser):
        parser.add_argument("programme", metavar="PROGRAMME_CODE", help="par exemple : pvd")
        parser.add_argument("file", metavar="FILE", type=Path, help="le fichier CSV")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="tout vérifier et afficher le bilan sans rien enregistrer",
        )

    def handle(self, *args, programme, file, dry_run, **options):
        try:
            programme_obj = Programme.objects.get(code=programme)
        except Programme.DoesNotExist:
            codes = ", ".join(Programme.objects.values_list("code", flat=True)) or "aucun"
            raise CommandError(
                f"Programme inconnu « {programme} ». Programmes existants : {codes} "
                "(load_programmes charge le catalogue)."
            ) from None
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Impossible de lire {file} : {exc.strerror}.") from exc
        try:
            report = import_programme_members(programme=programme_obj, data=data, dry_run=dry_run)
        except MemberFileError as exc:
            raise CommandError(f"{file.name} : {exc}") from exc

        write = self.stdout.write
        name = f"{programme_obj.name} ({programme_obj.code})"
        write(f"{name} — {file.name}, lignes lues : {report.rows}")
        write(
            f"  membres — créés : {report.created}, inchangés : {report.unchanged}, "
            f"mis à jour : {report.updated}, retirés : {report.removed} "
            f"(dans le fichier : communes {report.communes}, EPCI {report.epcis})"
        )
        write(
            f"  territoires du programme — créés : {report.territories_created}, "
            f"mis à jour : {report.territories_updated}, retirés : {report.territories_removed}"
        )
        if report.unknown:
            write(self.style.WARNING(f"  codes inconnus, lignes ignorées : {len(report.unknown)}"))
            for line in listed(unknown_code_lines(report.unknown)):
                write(self.style.WARNING(f"    {line}"))
        if dry_run:
            write(self.style.NOTICE("Simulation (--dry-run) : rien n'a été enregistré."))
        elif report.changed:
            write(self.style.SUCCESS("Import terminé."))
        else:
            write(self.style.SUCCESS("Liste déjà à jour : rien n'a changé."))
