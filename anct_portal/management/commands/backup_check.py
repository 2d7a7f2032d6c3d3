import os
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from anct_portal import backups


class Command(BaseCommand):
    help = (
        "Backup round trip: pg_dump (custom format) of the database, pg_restore into a scratch "
        "database, then compare row counts of every table and checksums of requests, logs, "
        "messages, attachments, notifications and accounts. Exits 1 when the copy differs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", help="keep the dump in this file (default: a temp file)")
        parser.add_argument(
            "--scratch", help="name of the scratch database (default: <database>_restore_check)"
        )
        parser.add_argument(
            "--keep-restored", action="store_true", help="leave the scratch database in place"
        )

    def handle(self, *args, **options):
        name = settings.DATABASES["default"]["NAME"]
        scratch = options["scratch"] or f"{name}_restore_check"[:63]
        if scratch == name:
            raise CommandError("The scratch database must not be the database itself.")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(options["output"] or os.path.join(tmp, f"{name}.dump"))
            try:
                started = time.monotonic()
                expected = backups.dump_with_fingerprint(path)
                dumped = time.monotonic()
                backups.drop_database(scratch)
                backups.create_database(scratch)
                backups.restore(path, target=scratch)
                restored = time.monotonic()
                with backups.connect(scratch) as conn:
                    actual = backups.fingerprint(conn)
            except backups.BackupError as exc:
                raise CommandError(str(exc)) from exc
            finally:
                if not options["keep_restored"]:
                    try:
                        backups.drop_database(scratch)
                    except backups.BackupError as exc:
                        self.stderr.write(str(exc))
            size = path.stat().st_size
        rows = sum(expected["tables"].values())
        self.stdout.write(
            f"Dump of {name}: {size / 1e6:.1f} MB in {dumped - started:.1f} s; restored into "
            f"{scratch} in {restored - dumped:.1f} s; {len(expected['tables'])} tables, "
            f"{rows} rows."
        )
        for table, checksum in expected["checksums"].items():
            self.stdout.write(f"  {table}: {expected['tables'][table]} rows, md5 {checksum}")
        found = backups.differences(expected, actual)
        if found:
            for line in found:
                self.stderr.write(f"  differs: {line}")
            raise CommandError(f"The restored copy differs in {len(found)} place(s).")
        self.stdout.write("The restored copy is identical (row counts and checksums).")
