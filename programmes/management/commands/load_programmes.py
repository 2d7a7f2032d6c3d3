from django.core.management.base import BaseCommand

from programmes.services import load_catalogue


class Command(BaseCommand):
    help = (
        "Charge ou met à jour le catalogue national : domaines prioritaires, programmes, "
        "contrats et pactes, opérateurs et conventions-cadres. Sans risque à relancer : seuls "
        "les champs tenus par le catalogue (codes, noms, natures, statuts, dates) sont mis à "
        "jour ; les descriptions et liens modifiés dans l'administration sont conservés."
    )

    def handle(self, *args, **options):
        report = load_catalogue()
        for label, codes in report.created.items():
            self.stdout.write(f"{label} — créés ({len(codes)}) : {', '.join(codes)}")
        for label, changes in report.updated.items():
            self.stdout.write(f"{label} — mis à jour ({len(changes)}) : {'; '.join(changes)}")
        for entry in report.kept:
            self.stdout.write(
                self.style.WARNING(f"Créé dans l'administration, laissé tel quel — {entry}")
            )
        for entry in report.missing_territories:
            self.stdout.write(
                self.style.WARNING(
                    f"Territoires absents, ignorés (lancez load_territories puis relancez) — "
                    f"{entry}"
                )
            )
        if report.changed:
            unchanged = sum(report.unchanged.values())
            self.stdout.write(self.style.SUCCESS(f"Catalogue chargé ({unchanged} inchangés)."))
        else:
            self.stdout.write(self.style.SUCCESS("Catalogue à jour : rien n'a changé."))
