from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition


class AlreadyHandled(ConcurrentTransition):
    """Someone else changed the request between the moment the user saw it and their action.

    Raised by every service when the state found under the row lock is not the one the caller
    acted upon; nothing is changed. Subclasses django-fsm's ``ConcurrentTransition``.
    """

    message = _("Cette demande vient d'être traitée par quelqu'un d'autre. Rechargez la page.")

    def __init__(self, message=None):
        super().__init__(str(message or self.message))
