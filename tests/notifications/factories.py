import factory
from django.utils import timezone

from notifications.enums import Channel, NotificationStatus
from notifications.models import Notification, NotificationPreference
from tests.accounts.factories import UserFactory


class NotificationFactory(factory.django.DjangoModelFactory):
    """An outbox row. Traits: ``in_app``, ``sent``, ``failed``, ``read``."""

    class Meta:
        model = Notification

    event = "submitted"
    audience = "delegates"
    channel = Channel.EMAIL
    recipient = factory.SubFactory(UserFactory)
    email = factory.LazyAttribute(lambda o: o.recipient.email if o.recipient else "x@example.fr")
    context = factory.Sequence(
        lambda n: {
            "subject": f"Nouvelle demande d'appui en ingénierie : ING-2026-{n:06d}",
            "body": "La commune a déposé la demande « Pont ». Elle attend votre prise en charge.",
            "url": "/demandes/1/",
            "reference": f"ING-2026-{n:06d}",
            "title": "Pont",
        }
    )
    dedup_key = factory.Sequence(lambda n: f"test:{n}")

    class Params:
        in_app = factory.Trait(channel=Channel.IN_APP)
        sent = factory.Trait(
            status=NotificationStatus.SENT, attempts=1, sent_at=factory.LazyFunction(timezone.now)
        )
        failed = factory.Trait(
            status=NotificationStatus.FAILED,
            attempts=3,
            last_error="ConnectionRefusedError: [Errno 111] Connection refused",
        )
        read = factory.Trait(read_at=factory.LazyFunction(timezone.now))


class NotificationPreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationPreference

    user = factory.SubFactory(UserFactory)
    receive_digests = True

    class Params:
        no_digests = factory.Trait(receive_digests=False)
