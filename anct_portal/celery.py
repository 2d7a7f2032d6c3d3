"""The Celery application of the portal: ``anct_portal.celery.app``."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anct_portal.settings")

app = Celery("anct_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _ensure_embedded_broker_folders() -> None:
    """The filesystem transport needs its folders to exist before producers and workers use it."""
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@task_prerun.connect
@task_postrun.connect
def _close_old_db_connections(task=None, **kwargs) -> None:
    """Treat each task like Django treats a request: keep the database connection for the next
    one (CONN_MAX_AGE, health-checked), close it only when broken or too old. Celery's own
    fixup would reconnect for every task (CELERY_DB_REUSE_MAX in the settings stops it), which
    costs more than delivering a notification. Eager tasks run inside the caller's transaction
    and are left alone."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


if str(app.conf.broker_url or "").startswith("filesystem://"):
    _ensure_embedded_broker_folders()
