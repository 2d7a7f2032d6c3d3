"""The officials' portal: "Mes demandes", the request form, the request page and its actions,
and the interlocuteur unique's list.

Views are thin: requests come from ``selectors.visible_to`` (another collectivité's request is a
404; the request page reads its row by id and asks ``permissions.can_view``, the single-request
mirror that tests keep equal to it), every write goes through ``services`` and each of their
errors becomes a French message (``PermissionDenied`` stays a 403). Every form carries a
one-time token (``anct_portal.services.claim_form_token``) so that a double click does the work
once.
"""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_fsm import TransitionNotAllowed, can_proceed, has_transition_perm

from accounts import roles
from anct_portal.kept_posts import login_required_keeping_post, take_kept_post
from anct_portal.prepared import Prepared
from anct_portal.services import (
    AlreadySubmitted,
    claim_form_token,
    is_valid_token,
    new_form_token,
    record_form_result,
)
from engineering_requests import permissions, selectors, services
from engineering_requests.enums import RequestState, Transition
from engineering_requests.exceptions import AlreadyHandled
from engineering_requests.forms import (
    MessageForm,
    ProgressNoteForm,
    ProvideInfoForm,
    RequestForm,
    WithdrawForm,
    add_service_errors,
)
from territories.models import Collectivity

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
S = RequestState
# Between the delegate and national staff only: officials see that it happened, not why.
STAFF_ONLY_COMMENTS = {Transition.ESCALATE, Transition.REFER_BACK}


def _detail_url(pk) -> str:
    return reverse("engineering_requests:detail", kwargs={"pk": pk})


def _back_to_detail(request, pk):
    return _detail_url(pk)


def _visible_or_404(request, pk, queryset=None):
    return get_object_or_404(
        queryset if queryset is not None else selectors.visible_to(request.user), pk=pk
    )


def _already_handled_message() -> str:
    return _(
        "Cette demande vient d'être traitée par quelqu'un d'autre : elle est affichée dans son "
        "état actuel. Vérifiez avant d'agir de nouveau."
    )


def _not_allowed_message(exc, engineering_request) -> str:
    text = str(exc)
    if text and "Can't switch" not in text:
        return text
    return _("Cette action n'est pas possible pour une demande au statut « %(state)s ».") % {
        "state": engineering_request.get_state_display()
    }


def _may(bound_transition, user) -> bool:
    return can_proceed(bound_transition) and has_transition_perm(bound_transition, user)


# "Mes demandes" ------------------------------------------------------------------------------


def _list_page(request, table, *, template, extra=None):
    # NUL is refused by PostgreSQL in a query parameter (a 500): a search never needs it.
    query = (request.GET.get("q") or "")[:100].replace("\x00", "").strip()
    state = request.GET.get("statut") or ""
    if state not in S.values:
        state = ""
    table = table.filter(query=query)
    # One grouped query gives the filter's counts, the "waiting for you" box and the total.
    counts = table.counts_by_state()
    # Slicing the table runs the page's query: plain rows, only the table's columns.
    paginator = Paginator(table.filter(state=state), PAGE_SIZE)
    paginator.count = counts.get(state, 0) if state else sum(counts.values())
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "page_range": list(paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1)),
        "requests": page.object_list,
        "query": query,
        "state": state,
        "filtered": bool(query or state),
        "counts": counts,
        "total": paginator.count,
        **(extra or {}),
    }
    return render(request, template, context)


@login_required
@require_GET
def request_list(request):
    user = request.user
    return _list_page(
        request,
        selectors.RequestTable.of_my_collectivities(user),
        template="engineering_requests/list.html",
        extra={
            "is_official": roles.is_official(user),
            "follows_requests": selectors.RequestTable.followed_by(user).exists(),
        },
    )


@login_required
@require_GET
def followed_list(request):
    """The interlocuteur unique's list: the requests they were named on."""
    return _list_page(
        request,
        selectors.RequestTable.followed_by(request.user),
        template="engineering_requests/followed.html",
        extra={"is_official": roles.is_official(request.user)},
    )


# The request form ----------------------------------------------------------------------------


_SENT_COLLECTIVITIES = Prepared(
    lambda p: Collectivity.objects.filter(pk__in=p.ids).order_by("name")
)


def _my_collectivities(user, *, related=True):
    ids = roles.collectivity_ids(user)
    if not related:
        # A sent form: only to check the choice and create the request. Compiled once per
        # process (per number of collectivités): the ORM spent 0.2 ms building it on each POST.
        return _SENT_COLLECTIVITIES.run(ids=list(ids)) if ids else []
    # For the programmes each one belongs to, shown by the form.
    collectivities = Collectivity.objects.filter(pk__in=ids)
    return list(collectivities.select_related("commune", "departement").order_by("name"))


def _attachments(engineering_request, user):
    if engineering_request is None:
        return []
    return list(selectors.attachments_for(engineering_request, user))


def _request_form(request, data=None, files=None, *, engineering_request=None, **kwargs):
    user = request.user
    return RequestForm(
        data,
        files,
        user=user,
        # A sent form needs the collectivités to check the choice and create the request: their
        # communes only if it is shown again.
        collectivities=_my_collectivities(user, related=data is None),
        engineering_request=engineering_request,
        attachments=_attachments(engineering_request, user),
        **kwargs,
    )


def _render_request_form(request, form, *, status=200):
    engineering_request = form.engineering_request
    return render(
        request,
        "engineering_requests/form.html",
        {"form": form, "engineering_request": engineering_request},
        status=status,
    )


def _fresh_data(data) -> QueryDict:
    fresh = data.copy()
    fresh["form_token"] = new_form_token()
    return fresh


def _confirmation_url(pk) -> str:
    return reverse("engineering_requests:confirmation", kwargs={"pk": pk})


def _save_request(request, form, *, claim=True):
    """Save the draft (and its documents) then, when asked, submit it."""
    user = request.user
    engineering_request = form.engineering_request
    submit_error = None
    try:
        with transaction.atomic():
            token = form.cleaned_data["form_token"] if claim else None
            submit = form.action() == RequestForm.SUBMIT
            files = form.cleaned_data["attachments"]
            # Without files every write stays in this transaction: the token is claimed last,
            # with the result, in one statement (a second POST of the form rolls back there).
            # Files are stored outside it: the token is claimed before anything is done.
            claim_first = token is not None and bool(files)
            submission = claim_form_token(user=user, token=token) if claim_first else None
            if engineering_request is None and submit and not files:
                # A new request submitted at once: written as submitted in one step, the
                # token claimed with its writes.
                fields = {"user": user, "collectivity": form.chosen_collectivity()}
                try:
                    draft = services.submit_new_request(
                        **fields,
                        **form.draft_fields(),
                        form_token=token,
                        result_url=_confirmation_url,
                    )
                    submit = False
                    token = None  # claimed
                except ValidationError as exc:
                    # Nothing was written. A wrong field: create_draft refuses it the same way
                    # (and the form shows why). Something missing: the draft is saved and the
                    # form shows what is missing.
                    draft = services.create_draft(**fields, **form.draft_fields())
                    submit, submit_error = False, exc
            elif engineering_request is None:
                draft = services.create_draft(
                    user=user,
                    collectivity=form.chosen_collectivity(),
                    **form.draft_fields(),
                )
            else:
                draft = services.update_draft(
                    engineering_request=engineering_request, user=user, **form.draft_fields()
                )
            for upload in files:
                services.add_attachment(engineering_request=draft, user=user, file=upload)
            if submit:
                try:
                    draft = services.submit_request(engineering_request=draft, user=user)
                except ValidationError as exc:
                    submit_error = exc  # the draft stays saved; the form shows what is missing
            done_url = (
                _confirmation_url(draft.pk)
                if draft.state != S.DRAFT
                else reverse("engineering_requests:edit", kwargs={"pk": draft.pk})
            )
            if submission is not None:
                record_form_result(submission, url=done_url, object_id=draft.pk)
            elif token is not None:
                claim_form_token(user=user, token=token, url=done_url, object_id=draft.pk)
    except AlreadySubmitted as exc:
        return _request_form_sent_again(request, form, exc.submission)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _render_request_form(request, form)
    except (AlreadyHandled, TransitionNotAllowed):
        if engineering_request is None:
            raise
        # Submitted meanwhile (a second click, a colleague): show where it stands.
        current = selectors.visible_to(user).filter(pk=engineering_request.pk).first()
        if current is not None and current.state == S.SUBMITTED:
            return redirect("engineering_requests:confirmation", pk=current.pk)
        messages.warning(request, _already_handled_message())
        return redirect(_detail_url(engineering_request.pk))

    if submit_error is not None:
        form = _request_form(request, _fresh_data(request.POST), engineering_request=draft)
        form.is_valid()
        add_service_errors(form, submit_error)
        messages.warning(
            request,
            _(
                "Votre brouillon est enregistré, mais il manque des informations pour déposer "
                "la demande : complétez les champs signalés."
            ),
        )
        return _render_request_form(request, form)
    if draft.state != S.DRAFT:
        return redirect(done_url)
    messages.success(
        request,
        _("Brouillon enregistré. Vous pouvez le compléter et le déposer quand vous voulez."),
    )
    return redirect(done_url)


def _request_form_sent_again(request, form, submission):
    """The same form came twice (double click, reload): it may only ever make one request."""
    user = request.user
    created = None
    if submission is not None and submission.object_id:
        created = selectors.visible_to(user).filter(pk=submission.object_id).first()
    if created is None:
        messages.info(request, _("Ce formulaire avait déjà été envoyé."))
        return redirect("engineering_requests:list")
    if created.state != S.DRAFT:
        return redirect("engineering_requests:confirmation", pk=created.pk)
    # Still a draft: this copy of the form updates the draft the first one created.
    # Without the files: the first copy stored them already.
    again = _request_form(request, request.POST, engineering_request=created)
    if not again.is_valid():
        return _render_request_form(request, again)
    return _save_request(request, again, claim=False)


def _restore_kept(request, engineering_request=None):
    """After an expired session: what was typed, saved as a draft at once."""
    kept = take_kept_post(request, request.path)
    if kept is None:
        return None
    _name, data, had_files = kept
    form = _request_form(request, _fresh_data(data), engineering_request=engineering_request)
    notice = _("Votre session avait expiré. Ce que vous aviez saisi a été conservé.")
    if had_files:
        notice += " " + _("Les documents joints n'ont pas pu l'être : choisissez-les de nouveau.")
    if not form.is_valid():
        messages.warning(request, notice)
        return _render_request_form(request, form)
    messages.info(request, notice)
    data = data.copy()
    data["action"] = RequestForm.SAVE  # never submit without the official seeing it again
    form = _request_form(request, _fresh_data(data), engineering_request=engineering_request)
    form.is_valid()
    return _save_request(request, form)


@login_required_keeping_post()
@require_http_methods(["GET", "POST"])
def request_create(request):
    if not roles.is_official(request.user):
        messages.warning(
            request,
            _(
                "Votre compte n'est rattaché à aucune collectivité : vous ne pouvez pas déposer "
                "de demande. Contactez votre délégué territorial."
            ),
        )
        return redirect("engineering_requests:list")
    if request.method == "POST":
        form = _request_form(request, request.POST, request.FILES)
        if not form.is_valid():
            return _render_request_form(request, form)
        return _save_request(request, form)
    restored = _restore_kept(request)
    if restored is not None:
        return restored
    collectivities = _my_collectivities(request.user)
    form = _request_form(request, initial=RequestForm.initial_for_new(collectivities))
    return _render_request_form(request, form)


def _data_from(initial: dict) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in initial.items():
        if isinstance(value, list):
            data.setlist(key, [str(item) for item in value])
        elif value is not None:
            data[key] = str(value)
    data["form_token"] = new_form_token()
    return data


@login_required_keeping_post()
@require_http_methods(["GET", "POST"])
def request_edit(request, pk):
    engineering_request = _visible_or_404(
        request,
        pk,
        selectors.visible_to(request.user)
        .select_related("collectivity", "programme")
        .prefetch_related("domains"),
    )
    if not permissions.is_member_official(engineering_request, request.user):
        raise PermissionDenied(
            _("Seuls les élus et agents de la collectivité modifient ce brouillon.")
        )
    if engineering_request.state != S.DRAFT:
        if request.method == "POST" and engineering_request.state == S.SUBMITTED:
            return redirect("engineering_requests:confirmation", pk=pk)
        messages.info(request, _("Cette demande est déposée : elle ne se modifie plus."))
        return redirect(engineering_request.get_absolute_url())
    if request.method == "POST":
        form = _request_form(
            request, request.POST, request.FILES, engineering_request=engineering_request
        )
        if not form.is_valid():
            return _render_request_form(request, form)
        return _save_request(request, form)
    restored = _restore_kept(request, engineering_request)
    if restored is not None:
        return restored
    initial = RequestForm.initial_from(engineering_request)
    if request.GET.get("verifier"):
        # Coming back from a refused submission: show what is missing on the fields.
        form = _request_form(request, _data_from(initial), engineering_request=engineering_request)
        form.is_valid()
        errors = services.submission_errors(
            engineering_request, len(engineering_request.domains.all())
        )
        if errors:
            add_service_errors(form, ValidationError(errors))
        return _render_request_form(request, form)
    form = _request_form(request, initial=initial, engineering_request=engineering_request)
    return _render_request_form(request, form)


@login_required
@require_GET
def request_confirmation(request, pk):
    engineering_request = _visible_or_404(
        request, pk, selectors.visible_to(request.user).select_related("departement")
    )
    if engineering_request.state == S.DRAFT:
        return redirect("engineering_requests:edit", pk=pk)
    return render(
        request,
        "engineering_requests/confirmation.html",
        {"engineering_request": engineering_request},
    )


# The request page ----------------------------------------------------------------------------


def _timeline(logs, is_staff):
    entries = []
    for log in logs:
        hidden = log.transition in STAFF_ONLY_COMMENTS and not is_staff
        entries.append({"log": log, "comment": "" if hidden else log.comment})
    return entries


def _detail_context(request, engineering_request, *, bound=None, initial=None):
    user = request.user
    bound = bound or {}
    initial = initial or {}
    er = engineering_request
    # The lists, and the related rows the page shows, in one query.
    lists = selectors.request_page_lists(er, user)
    is_official = permissions.is_member_official(er, user)
    is_staff = permissions.is_staff_for(er, user)
    is_contact = permissions.is_local_contact(er, user)
    can = {
        "edit": er.state == S.DRAFT and is_official,
        "submit": _may(er.submit, user),
        "provide_info": _may(er.provide_info, user),
        "withdraw": _may(er.withdraw, user),
        "message": er.state not in (S.DRAFT, S.WITHDRAWN) and (is_official or is_staff),
        "progress_note": is_contact and er.state == S.LOCAL_SUPPORT,
    }

    def form(name, form_class):
        if not can[name]:
            return None
        if name in bound:
            return bound[name]
        return form_class(engineering_request=er, initial=initial.get(name))

    timeline = _timeline(lists.timeline, is_staff)
    question = next(
        (e["log"] for e in reversed(timeline) if e["log"].transition == Transition.REQUEST_INFO),
        None,
    )
    return {
        "engineering_request": er,
        "can": can,
        "is_official": is_official,
        "is_contact": is_contact,
        "timeline": timeline,
        "question": question,
        "thread": lists.messages,
        "attachments": lists.attachments,
        "domains": lists.domains,
        "provide_info_form": form("provide_info", ProvideInfoForm),
        "message_form": form("message", MessageForm),
        "progress_note_form": form("progress_note", ProgressNoteForm),
        "action_token": new_form_token(),
    }


def _detail_queryset(user):
    return selectors.visible_to(user).select_related(
        "collectivity",
        "departement",
        "programme",
        "contract",
        "operator",
        "assigned_delegate",
        "submitted_by",
    )


def _render_detail(request, engineering_request, *, bound=None, initial=None, status=200):
    context = _detail_context(request, engineering_request, bound=bound, initial=initial)
    return render(request, "engineering_requests/detail.html", context, status=status)


@login_required
@require_GET
def request_detail(request, pk):
    # The request's row alone, then ``can_view``: the single-request mirror of
    # ``selectors.visible_to`` (tests/engineering_requests/test_visibility.py checks they
    # agree), without building and compiling that queryset on every page.
    engineering_request = selectors.request_by_pk(pk)
    if engineering_request is None or not permissions.can_view(engineering_request, request.user):
        raise Http404("No EngineeringRequest matches the given query.")  # get_object_or_404's
    initial = {}
    kept = take_kept_post(request, request.path)
    if kept is not None:
        name, data, had_files = kept
        field = {"provide_info": "message", "message": "body", "progress_note": "body"}.get(name)
        if field:
            initial[name] = {field: data.get(field, "")}
            notice = _(
                "Votre session avait expiré. Votre texte a été conservé : relisez-le puis "
                "envoyez-le."
            )
            if had_files:
                notice += " " + _(
                    "Les documents joints n'ont pas pu l'être : choisissez-les de nouveau."
                )
            messages.warning(request, notice)
    return _render_detail(request, engineering_request, initial=initial)


def _run_action(request, engineering_request, form, service, *, success_message,
                success_url=None, **kwargs):  # fmt: skip
    """Claim the form's token and run ``service``; turn its errors into messages.

    Returns a response, or None when the form must be shown again with its errors.
    """
    user = request.user
    seen = form.cleaned_data.get("seen_state")
    if seen and seen != engineering_request.state:
        messages.warning(request, _already_handled_message())
        return redirect(engineering_request.get_absolute_url())
    url = success_url or engineering_request.get_absolute_url()
    try:
        with transaction.atomic():
            submission = claim_form_token(user=user, token=form.cleaned_data["form_token"])
            service(engineering_request=engineering_request, user=user, **kwargs)
            form.files_stored = True
            record_form_result(submission, url=url, object_id=engineering_request.pk)
    except AlreadySubmitted as exc:
        messages.info(request, _("Votre envoi avait déjà été pris en compte."))
        target = exc.submission.result_url if exc.submission and exc.submission.result_url else ""
        return redirect(target or engineering_request.get_absolute_url())
    except AlreadyHandled:
        messages.warning(request, _already_handled_message())
        return redirect(engineering_request.get_absolute_url())
    except TransitionNotAllowed as exc:
        messages.error(request, _not_allowed_message(exc, engineering_request))
        return redirect(engineering_request.get_absolute_url())
    except ValidationError as exc:
        form.files_stored = False
        add_service_errors(form, exc)
        return None
    messages.success(request, success_message)
    return redirect(url)


def _action_view(form_name, form_class, *, success_message, service_kwargs, service, allowed,
                 refusal):  # fmt: skip
    @login_required_keeping_post(next_url=_back_to_detail, form_name=form_name)
    @require_POST
    def view(request, pk):
        engineering_request = _visible_or_404(request, pk, _detail_queryset(request.user))
        # Refused before the form is read: someone who may not act gets a 403 whatever they
        # post, not the form with its errors (the service would refuse a valid one anyway).
        if not allowed(engineering_request, request.user):
            raise PermissionDenied(refusal())
        form = form_class(request.POST, request.FILES, engineering_request=engineering_request)
        if form.is_valid():
            response = _run_action(
                request,
                engineering_request,
                form,
                service,
                success_message=success_message(),
                **service_kwargs(form.cleaned_data),
            )
            if response is not None:
                return response
        return _render_detail(request, engineering_request, bound={form_name: form})

    view.__name__ = f"{form_name}_view"
    return view


request_provide_info = _action_view(
    "provide_info",
    ProvideInfoForm,
    service=services.provide_info,
    success_message=lambda: _(
        "Votre complément a été envoyé au délégué territorial, qui reprend l'instruction."
    ),
    service_kwargs=lambda data: {"message": data["message"], "files": data["files"]},
    allowed=permissions.is_member_official,
    refusal=lambda: _("Votre rôle ne vous permet pas cette action sur cette demande."),
)

request_message = _action_view(
    "message",
    MessageForm,
    service=lambda **kwargs: services.post_message(**kwargs),
    success_message=lambda: _("Votre message a été envoyé."),
    service_kwargs=lambda data: {"body": data["body"], "files": data["files"]},
    allowed=lambda er, user: (
        permissions.is_member_official(er, user) or permissions.is_staff_for(er, user)
    ),
    refusal=lambda: _("Votre rôle ne vous permet pas d'écrire sur cette demande."),
)

request_progress_note = _action_view(
    "progress_note",
    ProgressNoteForm,
    service=services.post_progress_note,
    success_message=lambda: _("Votre point d'avancement est publié."),
    service_kwargs=lambda data: {"body": data["body"]},
    allowed=permissions.is_local_contact,
    refusal=lambda: _("Vous n'êtes pas l'interlocuteur unique de cette demande."),
)


@login_required_keeping_post(next_url=_back_to_detail, form_name="submit")
@require_POST
def request_submit(request, pk):
    """ "Déposer" from the request page, for a draft that is complete."""
    engineering_request = _visible_or_404(request, pk)
    user = request.user
    token = request.POST.get("form_token", "")
    if token and not is_valid_token(token):  # (the database refused one over 64 characters)
        messages.error(request, _("Ce formulaire a expiré. Rechargez la page, puis recommencez."))
        return redirect(engineering_request.get_absolute_url())
    seen = request.POST.get("seen_state", "")
    if seen and seen != engineering_request.state:
        messages.warning(request, _already_handled_message())
        return redirect(engineering_request.get_absolute_url())
    try:
        with transaction.atomic():
            submission = claim_form_token(user=user, token=token) if token else None
            submitted = services.submit_request(engineering_request=engineering_request, user=user)
            url = reverse("engineering_requests:confirmation", kwargs={"pk": submitted.pk})
            if submission is not None:
                record_form_result(submission, url=url, object_id=submitted.pk)
    except AlreadySubmitted as exc:
        target = exc.submission.result_url if exc.submission and exc.submission.result_url else ""
        return redirect(target or engineering_request.get_absolute_url())
    except ValidationError:
        messages.error(
            request,
            _(
                "Il manque des informations pour déposer la demande : complétez les champs "
                "signalés."
            ),
        )
        return redirect(reverse("engineering_requests:edit", kwargs={"pk": pk}) + "?verifier=1")
    except AlreadyHandled:
        messages.warning(request, _already_handled_message())
        return redirect(engineering_request.get_absolute_url())
    except TransitionNotAllowed as exc:
        messages.error(request, _not_allowed_message(exc, engineering_request))
        return redirect(engineering_request.get_absolute_url())
    return redirect(url)


@login_required_keeping_post(next_url=_back_to_detail, form_name="withdraw")
@require_http_methods(["GET", "POST"])
def request_withdraw(request, pk):
    """Withdrawal is final: a page of its own asks to confirm it."""
    engineering_request = _visible_or_404(request, pk, _detail_queryset(request.user))
    if not _may(engineering_request.withdraw, request.user):
        if not permissions.is_member_official(engineering_request, request.user):
            raise PermissionDenied(
                _("Seuls les élus et agents de la collectivité retirent une demande.")
            )
        messages.error(
            request,
            _("Cette demande ne peut plus être retirée : elle est au statut « %(state)s ».")
            % {"state": engineering_request.get_state_display()},
        )
        return redirect(engineering_request.get_absolute_url())
    form = WithdrawForm(request.POST or None, engineering_request=engineering_request)
    if request.method == "POST" and form.is_valid():
        response = _run_action(
            request,
            engineering_request,
            form,
            services.withdraw_request,
            success_message=_("Votre demande est retirée."),
            reason=form.cleaned_data["reason"],
        )
        if response is not None:
            return response
    return render(
        request,
        "engineering_requests/withdraw.html",
        {"engineering_request": engineering_request, "form": form},
    )


@login_required
@require_GET
def attachment_download(request, pk, attachment_pk):
    """Attachments are private: served only here, to who may see the request, as downloads."""
    engineering_request = _visible_or_404(request, pk)
    attachment = get_object_or_404(
        selectors.attachments_for(engineering_request, request.user), pk=attachment_pk
    )
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        logger.error("attachment %s: file missing in storage", attachment.pk)
        raise Http404(_("Ce fichier est introuvable.")) from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
