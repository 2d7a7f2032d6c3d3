"""Health checks for load balancers and monitoring. Never raise: report."""

import logging
import os
from pathlib import Path

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("healthz: database down: %s", exc)
        return False, "unavailable"
    return True, "ok"


def check_broker(timeout: float = 2.0) -> tuple[bool, str]:
    try:
        if settings.CELERY_BROKER_IS_EMBEDDED:
            folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
            if folder.is_dir() and os.access(folder, os.W_OK):
                return True, "ok"
            return False, "unavailable"
        from kombu import Connection

        with Connection(settings.CELERY_BROKER_URL, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:
        logger.warning("healthz: broker down: %s", exc)
        return False, "unavailable"
    return True, "ok"
