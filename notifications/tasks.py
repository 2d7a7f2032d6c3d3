from celery import shared_task


@shared_task(name="notifications.deliver_notification", acks_late=True)
def deliver_notification(notification_id: int) -> None:
    from notifications.services import deliver

    deliver(notification_id=notification_id)
