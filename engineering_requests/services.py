"""Every write on a request. One keyword-only function per action; each runs in one
transaction, locks the request row, checks scope, state and role on the server, validates what
the action must carry (French, field-level messages), runs the django-fsm transition, saves,
writes one transition-log row and records its notifications (delivered after commit).

Errors:
- ``django_fsm.TransitionNotAllowed``: the action does not exist from the current state;
- ``django.core.exceptions.PermissionDenied``: not this user's request, or not their role;
- ``django.core.exceptions.ValidationError``: missing or invalid data (``message_dict``);
- ``engineering_requests.exceptions.AlreadyHandled``: someone else changed the request since
  the caller loaded it (concurrent action); nothing was changed.

Each function returns the updated request (a fresh instance, not the one passed in).
"""

import datetime
import logging
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed, can_proceed

from accounts import roles
from anct_portal.inserts import Inserts
from anct_portal.services import check_form_token_claim, claim_form_token, claim_form_token_with
from engineering_requests import permissions
from engineering_requests.enums import (
    EngineeringKind,
    MessageKind,
    RequestState,
    Transition,
)
from engineering_requests.exceptions import AlreadyHandled
from engineering_requests.models import (
    Attachment,
    EngineeringRequest,
    ReferenceSequence,
    RequestMessage,
    TransitionLog,
)
from engineering_requests.notifications import RequestEvent, notify, notify_with, recipients_of
from engineering_requests.uploads import check_upload
from programmes.enums import InterventionForm, NationalInstrument
from programmes.models import Contract, LocalProvider, Operator, PriorityDomain, Programme
from territories.models import EPCI, Collectivity, Commune, Departement, Region

logger = logging.getLogger(__name__)

DRAFT_FIELDS = (
    "title",
    "description",
    "need",
    "engineering_kind",
    "intervention_form",
    "programme",
    "contract",
    "domains",
    "estimated_budget",
    "desired_start",
)
TEXT_LIMITS = {"title": 200, "description": 20_000, "need": 10_000}
MAX_BUDGET = Decimal("1000000000000")  # 1,000 billion euros: anything above is a typo
REASON_MAX_LENGTH = 10_000


# Shared steps -------------------------------------------------------------------------------


def _lock(engineering_request: EngineeringRequest, user) -> EngineeringRequest:
    """Lock the row, check it is in the user's scope, and that nobody changed it meanwhile."""
    # The collectivité comes with the row (its name is in every notification); only the
    # request's row is locked.
    locked = (
        EngineeringRequest.objects.select_for_update(of=("self",))
        .select_related("collectivity")
        .filter(pk=engineering_request.pk)
        .first()
    )
    if locked is None or not permissions.in_scope(locked, user):
        raise PermissionDenied(_("Vous n'avez pas accès à cette demande."))
    if locked.state != engineering_request.state:
        raise AlreadyHandled()
    return locked


def _ensure_transition(locked: EngineeringRequest, transition_name: str, user) -> None:
    method = getattr(locked, transition_name)
    if not can_proceed(method, check_conditions=False):
        raise TransitionNotAllowed(
            _("Cette action n'est pas possible pour une demande au statut « %(state)s ».")
            % {"state": locked.get_state_display()},
            object=locked,
            method=method,
        )
    if not method._django_fsm.has_transition_perm(locked, locked.state, user):
        raise PermissionDenied(_("Votre rôle ne vous permet pas cette action sur cette demande."))


def _finish(
    locked: EngineeringRequest,
    *,
    user,
    transition: str,
    source: str,
    comment: str = "",
    event: str | None = None,
) -> EngineeringRequest:
    now = timezone.now()
    locked.last_transition_at = now
    locked.save()
    return _record_transition(
        locked,
        user=user,
        transition=transition,
        source=source,
        comment=comment,
        event=event,
        now=now,
    )


def _log_transition(engineering_request, *, user, transition, source) -> None:
    logger.info(
        "request %s: %s %s -> %s by user %s",
        engineering_request.reference or engineering_request.pk,
        transition,
        source,
        engineering_request.state,
        user.pk,
    )


def _record_transition(
    locked: EngineeringRequest,
    *,
    user,
    transition: str,
    source: str,
    comment: str,
    event: str | None,
    now,
    recipients: list | None = None,
    log: TransitionLog | None = None,
) -> EngineeringRequest:
    """The transition-log row (unless given, written already), the log line and the
    notifications of a saved transition."""
    if log is None:
        log = _new_log(
            locked, user=user, transition=transition, source=source, comment=comment, now=now
        )
    _log_transition(locked, user=user, transition=transition, source=source)
    if event:
        notify(event, locked, occurrence=f"log{log.pk}", comment=comment, recipients=recipients)
    return locked


def _new_log(engineering_request, *, user, transition, source, comment, now) -> TransitionLog:
    return TransitionLog.objects.create(
        engineering_request=engineering_request,
        transition=transition,
        source_state=source,
        target_state=engineering_request.state,
        actor=user,
        comment=comment,
        created_at=now,
    )


def _required_text(value, field: str, label: str, *, max_length: int = REASON_MAX_LENGTH) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise ValidationError({field: _("Ce champ doit être un texte.")})
    if not text:
        raise ValidationError({field: _("%(label)s est obligatoire.") % {"label": label}})
    if len(text) > max_length:
        raise ValidationError(
            {field: _("%(max)s caractères au plus.") % {"max": f"{max_length:,}".replace(",", " ")}}
        )
    return text


def _optional_text(value, field: str, *, max_length: int = REASON_MAX_LENGTH) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({field: _("Ce champ doit être un texte.")})
    text = value.strip()
    if len(text) > max_length:
        raise ValidationError(
            {field: _("%(max)s caractères au plus.") % {"max": f"{max_length:,}".replace(",", " ")}}
        )
    return text


def _check_files(files) -> list:
    checked, errors = [], []
    for upload in files or ():
        try:
            checked.append((upload, check_upload(upload)))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({"files": errors})
    return checked


def _store_files(checked, *, engineering_request, user, message=None, internal=False) -> list:
    attachments = []
    for upload, info in checked:
        attachment = Attachment(
            engineering_request=engineering_request,
            message=message,
            uploaded_by=user,
            original_name=info.name,
            content_type=info.content_type,
            size=info.size,
            sha256=info.sha256,
            is_internal=internal,
        )
        upload.seek(0)
        attachment.file.save(info.name, upload, save=False)
        attachment.save()
        attachments.append(attachment)
    return attachments


# Drafts --------------------------------------------------------------------------------------


def resolve_collectivity(collectivity) -> Collectivity:
    """Accept a Collectivity or the Commune / EPCI / Département / Région it stands for."""
    if isinstance(collectivity, Collectivity):
        return collectivity
    lookups = {
        Commune: "commune",
        EPCI: "epci",
        Region: "region",
    }
    for model, field in lookups.items():
        if isinstance(collectivity, model):
            found = Collectivity.objects.filter(**{field: collectivity}).first()
            break
    else:
        if isinstance(collectivity, Departement):
            found = Collectivity.objects.filter(kind="departement", code=collectivity.code).first()
        else:
            raise ValidationError({"collectivity": _("Choisissez une collectivité.")})
    if found is None:
        raise ValidationError({"collectivity": _("Cette collectivité est inconnue.")})
    return found


def _model_instance(model, value, field: str):
    if value in (None, ""):
        return None
    if isinstance(value, model):
        return value
    try:
        return model.objects.get(pk=value)
    except (model.DoesNotExist, ValueError, TypeError) as exc:
        raise ValidationError({field: _("Valeur inconnue.")}) from exc


def _apply_draft_fields(engineering_request: EngineeringRequest, fields: dict) -> list | None:
    """Set the editable fields, validating each; return the domains to set, if given."""
    unknown = set(fields) - set(DRAFT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown request fields: {', '.join(sorted(unknown))}")
    errors: dict[str, list[str]] = {}

    def attempt(field, setter):
        try:
            setter()
        except ValidationError as exc:
            for message in exc.message_dict.get(field, exc.messages):
                errors.setdefault(field, []).append(message)

    for field, limit in TEXT_LIMITS.items():
        if field in fields:
            attempt(
                field,
                lambda f=field, m=limit: setattr(
                    engineering_request, f, _optional_text(fields[f], f, max_length=m)
                ),
            )

    def set_choice(field, choices):
        value = fields[field] or ""
        if value not in ("", *choices.values):
            raise ValidationError({field: _("Choix invalide.")})
        setattr(engineering_request, field, value)

    if "engineering_kind" in fields:
        attempt("engineering_kind", lambda: set_choice("engineering_kind", EngineeringKind))
    if "intervention_form" in fields:
        attempt("intervention_form", lambda: set_choice("intervention_form", InterventionForm))
    if "programme" in fields:
        attempt(
            "programme",
            lambda: setattr(
                engineering_request,
                "programme",
                _model_instance(Programme, fields["programme"], "programme"),
            ),
        )
    if "contract" in fields:
        attempt(
            "contract",
            lambda: setattr(
                engineering_request,
                "contract",
                _model_instance(Contract, fields["contract"], "contract"),
            ),
        )

    def set_budget():
        value = fields["estimated_budget"]
        if value in (None, ""):
            engineering_request.estimated_budget = None
            return
        try:
            amount = Decimal(str(value))
        except (InvalidOperation, ValueError) as exc:
            raise ValidationError({"estimated_budget": _("Indiquez un montant en euros.")}) from exc
        if not amount.is_finite() or amount < 0:
            raise ValidationError({"estimated_budget": _("Le montant ne peut pas être négatif.")})
        if amount >= MAX_BUDGET:
            raise ValidationError({"estimated_budget": _("Ce montant est invraisemblable.")})
        engineering_request.estimated_budget = amount.quantize(Decimal("0.01"))

    if "estimated_budget" in fields:
        attempt("estimated_budget", set_budget)

    def set_start():
        value = fields["desired_start"]
        if value in (None, ""):
            engineering_request.desired_start = None
        elif isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            engineering_request.desired_start = value
        else:
            raise ValidationError({"desired_start": _("Indiquez une date.")})

    if "desired_start" in fields:
        attempt("desired_start", set_start)

    domains = None
    if "domains" in fields:
        values = list(fields["domains"] or ())
        if all(isinstance(d, PriorityDomain) and d.pk is not None for d in values):
            # Instances the caller read or checked against the catalogue (the form): not read
            # again.
            domains = list({d.pk: d for d in values}.values())
        else:
            ids = [d.pk if isinstance(d, PriorityDomain) else d for d in values]
            try:
                found = list(PriorityDomain.objects.filter(pk__in=ids))
            except (ValueError, TypeError):
                found = []
            if len(found) != len(set(ids)):
                errors.setdefault("domains", []).append(_("Domaine inconnu."))
            domains = found
    if errors:
        raise ValidationError(errors)
    return domains


def submission_errors(engineering_request: EngineeringRequest, domain_count: int) -> dict:
    """What a draft lacks before it can be submitted (field → French messages)."""
    errors: dict[str, list[str]] = {}

    def need(field, message):
        errors.setdefault(field, []).append(message)

    if not engineering_request.title.strip():
        need("title", _("Donnez un intitulé au projet."))
    if not engineering_request.description.strip():
        need("description", _("Décrivez le projet."))
    if not engineering_request.need.strip():
        need("need", _("Décrivez le besoin d'ingénierie."))
    if not engineering_request.engineering_kind:
        need("engineering_kind", _("Choisissez le type d'ingénierie."))
    form = engineering_request.intervention_form
    if not form:
        need("intervention_form", _("Choisissez la forme d'intervention."))
    if form == InterventionForm.PROGRAMME and engineering_request.programme_id is None:
        need("programme", _("Choisissez le programme national concerné."))
    if form != InterventionForm.PROGRAMME and engineering_request.programme_id is not None:
        need("programme", _("Un programme ne s'indique que pour un programme national d'appui."))
    if form == InterventionForm.CONTRACT and engineering_request.contract_id is None:
        need("contract", _("Choisissez le contrat ou pacte concerné."))
    if form != InterventionForm.CONTRACT and engineering_request.contract_id is not None:
        need("contract", _("Un contrat ne s'indique que pour un contrat ou pacte territorial."))
    if domain_count == 0:
        need("domains", _("Choisissez au moins un domaine prioritaire."))
    start = engineering_request.desired_start
    if start is not None and start < timezone.localdate():
        need("desired_start", _("La date de démarrage souhaitée ne peut pas être passée."))
    return errors


def _new_request(*, user, collectivity, fields) -> tuple[EngineeringRequest, list | None]:
    """A new draft (unsaved) with its fields checked, and the domains to give it."""
    collectivity = resolve_collectivity(collectivity)
    if collectivity.pk not in roles.collectivity_ids(user):
        raise PermissionDenied(_("Vous ne pouvez déposer une demande que pour vos collectivités."))
    engineering_request = EngineeringRequest(
        collectivity=collectivity,
        departement_id=collectivity.departement_id,
        submitted_by=user,
        last_transition_at=timezone.now(),
    )
    domains = _apply_draft_fields(engineering_request, fields)
    return engineering_request, domains


def _insert_new(engineering_request: EngineeringRequest, domains, user) -> None:
    # An id taken from the sequence beforehand: an INSERT all the same (no UPDATE attempt).
    engineering_request.save(force_insert=True)
    if domains:
        engineering_request.domains.add(*domains)  # a new row: nothing to compare with
    logger.info("request %s: draft created by user %s", engineering_request.pk, user.pk)


@transaction.atomic
def create_draft(*, user, collectivity, **fields) -> EngineeringRequest:
    engineering_request, domains = _new_request(user=user, collectivity=collectivity, fields=fields)
    _insert_new(engineering_request, domains, user)
    return engineering_request


def submit_new_request(
    *, user, collectivity, form_token=None, result_url=None, **fields
) -> EngineeringRequest:
    """``create_draft`` then ``submit_request``, for a request submitted as soon as it is
    written (the form's "Déposer" on a new request): the same checks in the same order, the same
    rows (the request, its domains, the "submit" transition-log row from draft, the
    notifications) and log lines, without reading back and locking the row it has just
    inserted, nor inserting it as a draft then updating it.

    Raises ``ValidationError`` and writes nothing when a field is invalid or when the request
    is incomplete: the caller may then save it as a draft with ``create_draft``.

    ``form_token``: the form's one-time token, claimed with the writes (``result_url(pk)``:
    where a second POST of the form is sent); raises ``AlreadySubmitted`` when a previous POST
    of the form has committed (the caller's transaction must then roll back).
    """
    # Every check and read comes before the first write, and nothing raises after it but a
    # database error or ``AlreadySubmitted`` (both roll the caller's transaction back): so the
    # writes need no savepoint of their own inside the caller's transaction, and a refusal
    # leaves that transaction usable.
    engineering_request, domains = _new_request(user=user, collectivity=collectivity, fields=fields)
    if not permissions.in_scope(engineering_request, user):
        raise PermissionDenied(_("Vous n'avez pas accès à cette demande."))
    _ensure_transition(engineering_request, "submit", user)
    errors = submission_errors(engineering_request, len(domains or ()))
    if errors:
        raise ValidationError(errors)
    # Read before the reference is taken: from there on, other submissions wait for the commit
    # (the year's counter row is locked), so only writes follow.
    recipients = recipients_of(RequestEvent.SUBMITTED, engineering_request)
    with transaction.atomic(savepoint=False):
        source = engineering_request.state
        engineering_request.submit()
        now = timezone.now()
        engineering_request.last_transition_at = now
        if connection.vendor == "postgresql":
            return _submit_in_two_statements(
                engineering_request, domains, user=user, source=source, now=now,
                recipients=recipients, form_token=form_token, result_url=result_url,
            )  # fmt: skip
        # Elsewhere (SQLite): the ORM's statements, one by one.
        engineering_request.reference = _next_reference(timezone.localdate().year)
        _insert_new(engineering_request, domains, user)
        submitted = _record_transition(
            engineering_request,
            user=user,
            transition=Transition.SUBMIT,
            source=source,
            comment="",
            event=RequestEvent.SUBMITTED,
            now=now,
            recipients=recipients,
        )
        if form_token is not None:
            claim_form_token(
                user=user, token=form_token, url=result_url(submitted.pk), object_id=submitted.pk
            )
        return submitted


def _submit_in_two_statements(
    engineering_request, domains, *, user, source, now, recipients, form_token, result_url
) -> EngineeringRequest:
    """PostgreSQL: the submission's writes in two statements. The first takes the request's
    and its log row's ids and the year's next number; the second writes the request, its
    domains, its log row, its notifications and the form's token (``anct_portal.inserts``).
    Submissions take turns on the year's counter row from the first statement to COMMIT: only
    the second statement's values are built in between (no query)."""
    year = timezone.localdate().year
    pk, log_pk, number = _ids_and_number(year)
    engineering_request.pk = pk
    engineering_request.reference = _reference(year, number)
    inserts = Inserts(using=connection.alias)
    inserts.add_rows("request", [engineering_request])
    if domains:
        through = EngineeringRequest.domains.through
        inserts.add_rows(
            "domains",
            [through(engineeringrequest_id=pk, prioritydomain_id=d.pk) for d in domains],
        )
    log = TransitionLog(
        pk=log_pk,
        engineering_request=engineering_request,
        transition=Transition.SUBMIT,
        source_state=source,
        target_state=engineering_request.state,
        actor=user,
        comment="",
        created_at=now,
    )
    inserts.add_rows("log", [log])
    notified = notify_with(
        inserts,
        RequestEvent.SUBMITTED,
        engineering_request,
        occurrence=f"log{log_pk}",
        recipients=recipients,
    )
    if form_token is not None:
        claim_form_token_with(
            inserts, user=user, token=form_token, url=result_url(pk), object_id=pk
        )
    result = inserts.run()
    if form_token is not None:
        check_form_token_claim(result, user=user, token=form_token)
    notified(result)
    for row in (engineering_request, log):
        row._state.adding = False
        row._state.db = connection.alias
    engineering_request._update_initial_state()
    logger.info("request %s: draft created by user %s", pk, user.pk)
    _log_transition(engineering_request, user=user, transition=Transition.SUBMIT, source=source)
    return engineering_request


def _ids_and_number(year: int) -> tuple[int, int, int]:
    """The next request id, the next transition-log id and the year's next reference number
    (its counter row locked until COMMIT), in one round trip."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH number AS ({_counter_sql()}) "  # noqa: S608 (names from the models)
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')), "
            "nextval(pg_get_serial_sequence(%s, 'id')), last_number FROM number",
            [year, EngineeringRequest._meta.db_table, TransitionLog._meta.db_table],
        )
        return cursor.fetchone()


@transaction.atomic
def update_draft(*, engineering_request, user, **fields) -> EngineeringRequest:
    locked = _lock(engineering_request, user)
    if locked.state != RequestState.DRAFT:
        raise TransitionNotAllowed(_("Seul un brouillon peut être modifié."), object=locked)
    if not permissions.is_member_official(locked, user):
        raise PermissionDenied(_("Votre rôle ne vous permet pas cette action sur cette demande."))
    domains = _apply_draft_fields(locked, fields)
    locked.save()
    if domains is not None:
        locked.domains.set(domains)
    return locked


def _counter_sql() -> str:
    """One statement that creates or increments the year's row and returns the number: the row
    lock it takes makes concurrent submissions take turns, and a rolled-back submission rolls
    its number back too, so references stay gap-free. (PostgreSQL and SQLite >= 3.35.)"""
    table = connection.ops.quote_name(ReferenceSequence._meta.db_table)
    return (
        f"INSERT INTO {table} (year, last_number) VALUES (%s, 1) "  # noqa: S608 - table name
        f"ON CONFLICT (year) DO UPDATE SET last_number = {table}.last_number + 1 "
        "RETURNING last_number"
    )


def _reference(year: int, number: int) -> str:
    return f"ING-{year}-{number:06d}"


def _next_reference(year: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(_counter_sql(), [year])
        number = cursor.fetchone()[0]
    return _reference(year, number)


# Transitions ---------------------------------------------------------------------------------


@transaction.atomic
def submit_request(*, engineering_request, user) -> EngineeringRequest:
    locked = _lock(engineering_request, user)
    _ensure_transition(locked, "submit", user)
    errors = submission_errors(locked, locked.domains.count())
    if errors:
        raise ValidationError(errors)
    source = locked.state
    locked.reference = _next_reference(timezone.localdate().year)
    locked.submit()
    return _finish(
        locked, user=user, transition=Transition.SUBMIT, source=source, event=RequestEvent.SUBMITTED
    )


@transaction.atomic
def start_review(*, engineering_request, user) -> EngineeringRequest:
    locked = _lock(engineering_request, user)
    _ensure_transition(locked, "start_review", user)
    source = locked.state
    locked.start_review(by=user)
    return _finish(locked, user=user, transition=Transition.START_REVIEW, source=source)


@transaction.atomic
def request_info(*, engineering_request, user, message) -> EngineeringRequest:
    locked = _lock(engineering_request, user)
    _ensure_transition(locked, "request_info", user)
    body = _required_text(message, "message", _("Le message à la collectivité"))
    source = locked.state
    locked.request_info()
    RequestMessage.objects.create(engineering_request=locked, author=user, body=body)
    return _finish(
        locked,
        user=user,
        transition=Transition.REQUEST_INFO,
        source=source,
        comment=body,
        event=RequestEvent.INFO_REQUESTED,
    )


@transaction.atomic
def provide_info(*, engineering_request, user, message, files=()) -> EngineeringRequest:
    locked = _lock(engineering_request, user)
    _ensure_transition(locked, "provide_info", user)
    body = _optional_text(message, "message")
    checked = _check_files(files)
    if not body and not checked:
        raise ValidationError({"message": _("Répondez par un message ou joignez un fichier.")})
    source = locked.state
    locked.provide_info()
    reply = RequestMessage.objects.create(
        engineering_request=locked,
        author=user,
        body=body or _("Pièces jointes transmises."),
    )
    _store_files(checked, engineering_request=locked, user=user, message=reply)
    return _finish(
        locked,
        user=user,
        transition=Transition.PROVIDE_INFO,
        source=source,
        comment=body,
        event=RequestEvent.INFO_PROVIDED,
    )


@transaction.atomic
def resolve_locally(
    *,
    engineering_request,
    user,
    contact_name,
    contact_organisation,
    contact_email,
    provider=None,
    comment="",
) -> EngineeringRequest:
    locked = _lock(engineering_request, user)
    _ensure_transition(locked, "resolve_locally", user)
    provider = _model_instance(LocalProvider, provider, "provider")
    if provider is not None and not provider.is_active:
        raise ValidationError({"provider": _("Cet acteur n'est plus actif dans l'annuaire.")})
    if provider is not None:
        # Picking a provider from the directory fills what the delegate left blank.
        contact_name = contact_name or provider.contact_name
        contact_organisation = contact_organisation or provider.name
        contact_email = contact_email or provider.email
    errors = {}
    values = {}
    for field, value, label, limit in (
        ("contact_name", contact_name, _("Le nom de l'interlocuteur unique"), 200),
        ("contact_organisation", contact_organisation, _("L'organisme"), 250),
        ("contact_email", contact_email, _("L'e-mail de l'interlocuteur unique"), 254),
    ):
        try:
            values[field] = _required_text(value, field, label, max_length=limit)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "contact_email" in values:
        try:
            validate_email(values["contact_email"])
        except ValidationError:
            errors["contact_email"] = [_("Saisissez une adresse e-mail valide.")]
    try:
        comment = _optional_text(comment, "comment")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    source = locked.state
    locked.contact_name = values["contact_name"]
    locked.contact_organisation = values["contact_organisation"]
    locked.contact_email = values["contact_email"].lower()
    locked.local_provider = provider
    locked.resolve_locally()
    return _finish(
        locked,
        user=user,
        transition=Transition.RESOLVE_LOCALLY,
        source=source,
        comment=comment,
        event=RequestEvent.RESOLVED_LOCALLY,
    )


@transaction.atomic
def escalate_request(
    *,
    engineering_request,
    user,
    fragility="",
    insufficient_local_resources="",
    innovative_or_complex="",
    rare_expertise=False,
    national_scope=False,
) -> EngineeringRequest:
    locked = _lock(engineering_request, user)
    _ensure_transition(locked, "escalate", user)
    texts = {}
    errors = {}
    for field, value in (
        ("fragility", fragility),
        ("insufficient_local_resources", insufficient_local_resources),
        ("innovative_or_complex", innovative_or_complex),
    ):
        try:
            texts[field] = _optional_text(value, field)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if not errors:
        fragile, lacking, innovative = (
            texts["fragility"],
            texts["insufficient_local_resources"],
            texts["innovative_or_complex"],
        )
        if not innovative:
            if fragile and not lacking:
                errors["insufficient_local_resources"] = [
                    _(
                        "La fragilité de la collectivité ne suffit pas : justifiez aussi "
                        "l'insuffisance des ressources locales."
                    )
                ]
            elif lacking and not fragile:
                errors["fragility"] = [
                    _(
                        "L'insuffisance des ressources locales ne suffit pas : justifiez aussi "
                        "la fragilité de la collectivité."
                    )
                ]
            elif not fragile and not lacking:
                message = _(
                    "Justifiez la transmission : soit la fragilité de la collectivité et "
                    "l'insuffisance des ressources locales, soit le caractère innovant ou "
                    "complexe du projet."
                )
                errors["__all__"] = [message]
    if errors:
        raise ValidationError(errors)
    source = locked.state
    locked.fragility_rationale = texts["fragility"]
    locked.insufficient_resources_rationale = texts["insufficient_local_resources"]
    locked.innovative_rationale = texts["innovative_or_complex"]
    locked.rare_expertise = bool(rare_expertise)
    locked.national_scope = bool(national_scope)
    locked.escalate()
    summary = "\n".join(
        f"{label} : {text}"
        for label, text in (
            (_("Fragilité"), locked.fragility_rationale),
            (_("Ressources locales insuffisantes"), locked.insufficient_resources_rationale),
            (_("Projet innovant ou complexe"), locked.innovative_rationale),
        )
        if text
    )
    return _finish(
        locked,
        user=user,
        transition=Transition.ESCALATE,
        source=source,
        comment=summary,
        event=RequestEvent.ESCALATED,
    )


@transaction.atomic
def approve_national_support(
    *, engineering_request, user, instrument, operator=None, amount=None, comment=""
) -> EngineeringRequest:
    locked = _lock(engineering_request, user)
    _ensure_transition(locked, "approve_national", user)
    errors: dict[str, list[str]] = {}
    if instrument not in NationalInstrument.values:
        errors["instrument"] = [_("Choisissez l'instrument national mobilisé.")]
    try:
        operator = _model_instance(Operator, operator, "operator")
    except ValidationError as exc:
        errors.update(exc.message_dict)
        operator = None
    if instrument == NationalInstrument.FRAMEWORK_AGREEMENT and operator is None:
        errors.setdefault("operator", []).append(
            _("Une convention-cadre se rattache à un opérateur : choisissez-le.")
        )
    if (
        instrument in NationalInstrument.values
        and instrument != NationalInstrument.FRAMEWORK_AGREEMENT
        and operator is not None
    ):
        errors.setdefault("operator", []).append(
            _("Un opérateur ne s'indique que pour une convention-cadre.")
        )
    value = None
    if amount not in (None, ""):
        try:
            value = Decimal(str(amount))
            if not value.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors["amount"] = [_("Indiquez un montant en euros.")]
        else:
            if value <= 0:
                errors["amount"] = [_("Le montant doit être positif.")]
            elif value >= MAX_BUDGET:
                errors["amount"] = [_("Ce montant est invraisemblable.")]
    if instrument in NationalInstrument.credits() and value is None and "amount" not in errors:
        errors["amount"] = [_("Des crédits s'accordent pour un montant : indiquez-le.")]
    try:
        comment = _optional_text(comment, "comment")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    source = locked.state
    locked.national_instrument = instrument
    locked.operator = operator
    locked.granted_amount = value.quantize(Decimal("0.01")) if value is not None else None
    locked.decision_comment = comment
    locked.approve_national(by=user)
    label = NationalInstrument(instrument).label
    parts = [str(label)]
    if operator is not None:
        parts.append(operator.name)
    if locked.granted_amount is not None:
        parts.append(f"{locked.granted_amount:,.2f} €".replace(",", " ").replace(".", ","))
    summary = " – ".join(parts) + (f"\n{comment}" if comment else "")
    return _finish(
        locked,
        user=user,
        transition=Transition.APPROVE_NATIONAL,
        source=source,
        comment=summary,
        event=RequestEvent.NATIONAL_APPROVED,
    )


@transaction.atomic
def refer_back(*, engineering_request, user, reason) -> EngineeringRequest:
    locked = _lock(engineering_request, user)
    _ensure_transition(locked, "refer_back", user)
    reason = _required_text(reason, "reason", _("Le motif du renvoi"))
    source = locked.state
    locked.referral_reason = reason
    locked.refer_back()
    return _finish(
        locked,
        user=user,
        transition=Transition.REFER_BACK,
        source=source,
        comment=reason,
        event=RequestEvent.REFERRED_BACK,
    )


@transaction.atomic
def decline_request(*, engineering_request, user, reason) -> EngineeringRequest:
    locked = _lock(engineering_request, user)
    _ensure_transition(locked, "decline", user)
    reason = _required_text(reason, "reason", _("Le motif"))
    source = locked.state
    locked.decline_reason = reason
    locked.decline()
    return _finish(
        locked,
        user=user,
        transition=Transition.DECLINE,
        source=source,
        comment=reason,
        event=RequestEvent.DECLINED,
    )


@transaction.atomic
def withdraw_request(*, engineering_request, user, reason="") -> EngineeringRequest:
    locked = _lock(engineering_request, user)
    _ensure_transition(locked, "withdraw", user)
    reason = _optional_text(reason, "reason")
    source = locked.state
    locked.withdrawal_reason = reason
    locked.withdraw()
    return _finish(
        locked,
        user=user,
        transition=Transition.WITHDRAW,
        source=source,
        comment=reason,
        event=RequestEvent.WITHDRAWN if source != RequestState.DRAFT else None,
    )


@transaction.atomic
def complete_request(*, engineering_request, user, outcome) -> EngineeringRequest:
    locked = _lock(engineering_request, user)
    _ensure_transition(locked, "complete", user)
    outcome = _required_text(outcome, "outcome", _("Le bilan de l'accompagnement"))
    source = locked.state
    locked.outcome = outcome
    locked.complete()
    return _finish(
        locked,
        user=user,
        transition=Transition.COMPLETE,
        source=source,
        comment=outcome,
        event=RequestEvent.COMPLETED,
    )


# Messages and attachments ----------------------------------------------------------------------


@transaction.atomic
def post_message(*, engineering_request, user, body, internal=False, files=()) -> RequestMessage:
    """A message in the request's thread. Officials and State staff write messages; only
    State staff write internal notes, which officials never see."""
    locked = (
        EngineeringRequest.objects.select_for_update().filter(pk=engineering_request.pk).first()
    )
    if locked is None or not permissions.can_view(locked, user):
        raise PermissionDenied(_("Vous n'avez pas accès à cette demande."))
    is_official = permissions.is_member_official(locked, user)
    is_staff = permissions.is_staff_for(locked, user)
    if internal and not is_staff:
        raise PermissionDenied(_("Seules les équipes de l'État écrivent des notes internes."))
    if not (is_official or is_staff):
        raise PermissionDenied(_("Votre rôle ne vous permet pas d'écrire sur cette demande."))
    if locked.state == RequestState.DRAFT:
        raise TransitionNotAllowed(
            _("Déposez la demande avant d'écrire un message."), object=locked
        )
    text = _required_text(body, "body", _("Le message"))
    checked = _check_files(files)
    message = RequestMessage.objects.create(
        engineering_request=locked,
        author=user,
        kind=MessageKind.INTERNAL_NOTE if internal else MessageKind.MESSAGE,
        body=text,
    )
    _store_files(checked, engineering_request=locked, user=user, message=message, internal=internal)
    if not internal:
        # The other side of the conversation is told; internal notes stay silent.
        audience = "officials" if is_staff else "delegate"
        notify(
            RequestEvent.MESSAGE_POSTED,
            locked,
            occurrence=f"msg{message.pk}",
            comment=text,
            audiences={audience},
        )
    return message


@transaction.atomic
def post_progress_note(*, engineering_request, user, body) -> RequestMessage:
    """The interlocuteur unique reports progress on a request they follow."""
    locked = (
        EngineeringRequest.objects.select_for_update().filter(pk=engineering_request.pk).first()
    )
    if locked is None or not permissions.is_local_contact(locked, user):
        raise PermissionDenied(_("Vous n'êtes pas l'interlocuteur unique de cette demande."))
    if locked.state != RequestState.LOCAL_SUPPORT:
        raise TransitionNotAllowed(
            _("Les points d'avancement s'écrivent pendant l'accompagnement local."), object=locked
        )
    text = _required_text(body, "body", _("Le point d'avancement"))
    return RequestMessage.objects.create(
        engineering_request=locked, author=user, kind=MessageKind.PROGRESS_NOTE, body=text
    )


@transaction.atomic
def add_attachment(*, engineering_request, user, file, internal=False) -> Attachment:
    locked = (
        EngineeringRequest.objects.select_for_update().filter(pk=engineering_request.pk).first()
    )
    if locked is None or not permissions.can_view(locked, user):
        raise PermissionDenied(_("Vous n'avez pas accès à cette demande."))
    is_official = permissions.is_member_official(locked, user)
    is_staff = permissions.is_staff_for(locked, user)
    if internal and not is_staff:
        raise PermissionDenied(_("Seules les équipes de l'État déposent des pièces internes."))
    if not (is_official or is_staff):
        raise PermissionDenied(_("Votre rôle ne vous permet pas de déposer une pièce ici."))
    if locked.state in RequestState.closed_states():
        raise TransitionNotAllowed(_("Cette demande est close."), object=locked)
    checked = _check_files([file])
    return _store_files(checked, engineering_request=locked, user=user, internal=internal)[0]
