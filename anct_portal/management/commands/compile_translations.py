"""Compile the project's .po catalogues into .mo files, without needing GNU gettext.

``make run`` must work on a machine that has only Python; Django's ``compilemessages`` needs
the ``msgfmt`` binary, so this command uses polib instead.
"""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po into .mo files (pure Python)."

    def handle(self, *args, **options):
        compiled = 0
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                try:
                    polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                except (OSError, ValueError) as exc:
                    raise CommandError(f"Cannot compile {po_path}: {exc}") from exc
                compiled += 1
        self.stdout.write(f"{compiled} catalogue(s) compiled.")
