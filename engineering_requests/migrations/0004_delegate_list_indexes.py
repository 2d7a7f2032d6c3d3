"""The delegate list's indexes in its exact order (département, [state,] newest first, id),
the state last for index-only skips to deep pages; they replace their prefixes."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("engineering_requests", "0003_backoffice_submitted_index"),
        ("programmes", "0002_catalogue_source_and_member_dates"),
        ("territories", "0002_collectivity_search_trigram_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="engineeringrequest",
            index=models.Index(
                fields=["departement", "state", "-submitted_at", "-id"],
                name="request_dep_state_id_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="engineeringrequest",
            index=models.Index(
                fields=["departement", "-submitted_at", "-id", "state"],
                name="request_dep_submitted_id_idx",
            ),
        ),
        migrations.RemoveIndex(
            model_name="engineeringrequest",
            name="request_dep_state_idx",
        ),
        migrations.RemoveIndex(
            model_name="engineeringrequest",
            name="request_dep_submitted_idx",
        ),
    ]
