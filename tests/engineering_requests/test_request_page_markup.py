# ruff: noqa: E501 - the reference template lines are the page's, unwrapped
"""The request page's lists written in Python (``templatetags/request_page.py``) are, character
for character, what the template loops they replaced rendered (kept here as the reference)."""

import datetime
from decimal import Decimal

import pytest
from django.template import engines
from django.test import RequestFactory
from django.utils import timezone, translation

from engineering_requests import selectors, services
from engineering_requests.enums import MessageKind
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest, RequestMessage
from tests.engineering_requests.factories import AttachmentFactory
from tests.programmes.factories import PriorityDomainFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db

NASTY = "Guillemets \" apostrophe ' <b>gras</b> & « esperluette »"

OLD_LISTS = """{% load i18n %}{% with er=engineering_request %}<ol>
        <li class="portal-timeline__item">
          <p class="portal-timeline__date"><time datetime="{{ er.created_at|date:'c' }}">{{ er.created_at|date:"DATETIME_FORMAT" }}</time></p>
          <p class="portal-timeline__title">{% translate "Brouillon créé" %}</p>
          <p class="portal-timeline__who">{{ er.submitted_by.get_full_name|default:er.submitted_by.email }}</p>
        </li>
        {% for entry in timeline %}
          <li class="portal-timeline__item">
            <p class="portal-timeline__date"><time datetime="{{ entry.log.created_at|date:'c' }}">{{ entry.log.created_at|date:"DATETIME_FORMAT" }}</time></p>
            <p class="portal-timeline__title">{{ entry.log.get_transition_display }}</p>
            <p class="portal-timeline__who">{{ entry.log.actor.get_full_name|default:entry.log.actor.email }}{% if entry.log.actor.job_title %}, {{ entry.log.actor.job_title }}{% endif %}</p>
            {% if entry.comment %}<div class="portal-timeline__comment">{{ entry.comment|linebreaksbr }}</div>{% endif %}
          </li>
        {% endfor %}
      </ol>
          <ol class="portal-thread">
            {% for message in thread %}
              <li class="portal-thread__item{% if message.author_id == user.pk %} portal-thread__item--mine{% endif %}{% if message.kind == 'progress_note' %} portal-thread__item--progress{% endif %}" id="message-{{ message.pk }}">
                <p class="portal-thread__meta">
                  <strong>{{ message.author.get_full_name|default:message.author.email }}</strong>{% if message.author.job_title %}, {{ message.author.job_title }}{% endif %}
                  · <time datetime="{{ message.created_at|date:'c' }}">{{ message.created_at|date:"DATETIME_FORMAT" }}</time>
                  {% if message.kind == "progress_note" %}<span class="fr-badge fr-badge--sm fr-badge--green-emeraude fr-badge--no-icon fr-ml-1w">{% translate "Point d'avancement" %}</span>{% endif %}
                </p>
                <div class="portal-thread__body">{{ message.body|linebreaks }}</div>
                {% with files=message.attachments.all %}{% if files %}
                  <ul class="portal-thread__files">{% for attachment in files %}{% if not attachment.is_internal %}
                    <li><a class="fr-link fr-icon-attachment-line fr-link--icon-left" href="{% url 'engineering_requests:attachment' pk=er.pk attachment_pk=attachment.pk %}">{{ attachment.original_name }}</a> <span class="fr-text--xs">({{ attachment.size|filesizeformat }})</span></li>{% endif %}{% endfor %}
                  </ul>
                {% endif %}{% endwith %}
              </li>
            {% endfor %}
          </ol>
        {% for attachment in attachments %}
          <div class="fr-download fr-mb-1w">
            <p><a class="fr-download__link" href="{% url 'engineering_requests:attachment' pk=er.pk attachment_pk=attachment.pk %}">{{ attachment.original_name }}
              <span class="fr-download__detail">{{ attachment.size|filesizeformat }} – {% blocktranslate with author=attachment.uploaded_by.get_full_name date=attachment.created_at|date:"SHORT_DATE_FORMAT" %}déposé par {{ author }} le {{ date }}{% endblocktranslate %}</span></a></p>
          </div>
        {% endfor %}{% endwith %}"""

OLD_SUMMARY = """{% load i18n %}{% with er=engineering_request %}
      <dl class="portal-summary">
        <dt>{% translate "Collectivité porteuse" %}</dt><dd>{{ er.collectivity }} — {{ er.departement }}</dd>
        <dt>{% translate "Description du projet" %}</dt><dd>{{ er.description|default:_("Non renseignée")|linebreaksbr }}</dd>
        <dt>{% translate "Besoin d'ingénierie" %}</dt><dd>{{ er.need|default:_("Non renseigné")|linebreaksbr }}</dd>
        <dt>{% translate "Type d'ingénierie" %}</dt><dd>{{ er.get_engineering_kind_display|default:_("Non renseigné") }}</dd>
        <dt>{% translate "Forme d'intervention" %}</dt><dd>{{ er.get_intervention_form_display|default:_("Non renseignée") }}{% if er.programme %} — {{ er.programme.name }}{% endif %}{% if er.contract %} — {{ er.contract.name }}{% endif %}</dd>
        <dt>{% translate "Domaines prioritaires" %}</dt><dd>{% for domain in domains %}{{ domain }}{% if not forloop.last %}, {% endif %}{% empty %}{% translate "Non renseignés" %}{% endfor %}</dd>
        <dt>{% translate "Budget estimé" %}</dt><dd>{% if er.estimated_budget is not None %}{{ er.estimated_budget|floatformat:"0g" }} €{% else %}{% translate "Non renseigné" %}{% endif %}</dd>
        <dt>{% translate "Démarrage souhaité" %}</dt><dd>{{ er.desired_start|date:"DATE_FORMAT"|default:_("Non renseigné") }}</dd>
        <dt>{% if er.submitted_at %}{% translate "Déposée par" %}{% else %}{% translate "Créée par" %}{% endif %}</dt><dd>{{ er.submitted_by.get_full_name|default:er.submitted_by.email }}{% if er.submitted_by.job_title %}, {{ er.submitted_by.job_title }}{% endif %}</dd>
        {% if er.submitted_at %}<dt>{% translate "Déposée le" %}</dt><dd>{{ er.submitted_at|date:"DATE_FORMAT" }}</dd>{% endif %}
        {% if er.assigned_delegate %}<dt>{% translate "Délégué territorial en charge" %}</dt><dd>{{ er.assigned_delegate.get_full_name|default:er.assigned_delegate.email }}</dd>{% endif %}
      </dl>{% endwith %}"""

NEW_SUMMARY = """{% load request_page %}{% with er=engineering_request %}
      {% request_summary er domains %}{% endwith %}"""

NEW_LISTS = """{% load request_page %}{% with er=engineering_request %}<ol>
        {% request_timeline er timeline %}
      </ol>
          <ol class="portal-thread">
            {% request_thread thread er.pk user.pk %}
          </ol>
        {% request_documents attachments er.pk %}{% endwith %}"""


@pytest.fixture
def rich_request(cast):
    """Every case of the lists: comments on several lines and with markup, a progress note,
    files on messages (one internal), a deleted author, job titles, a date in winter."""
    request = cast.request_in(S.LOCAL_SUPPORT)
    cast.official.job_title = NASTY
    cast.official.save()
    first = services.post_message(
        engineering_request=request, user=cast.official, body=f"Ligne 1\n\nLigne 2\n{NASTY}"
    )
    AttachmentFactory(
        engineering_request=request, uploaded_by=cast.official, message=first, size=123_456
    )
    AttachmentFactory(
        engineering_request=request,
        uploaded_by=cast.delegate,
        message=first,
        internal=True,
        original_name=NASTY,
    )
    RequestMessage.objects.create(
        engineering_request=request,
        author=cast.contact,
        kind=MessageKind.PROGRESS_NOTE,
        body="Réunion faite.",
        created_at=timezone.make_aware(datetime.datetime(2026, 1, 5, 8, 3)),
    )
    only_internal = services.post_message(
        engineering_request=request, user=cast.delegate, body="Note", internal=True
    )
    AttachmentFactory(
        engineering_request=request,
        uploaded_by=cast.delegate,
        message=only_internal,
        internal=True,
    )
    AttachmentFactory(
        engineering_request=request, uploaded_by=cast.colleague, original_name=NASTY, size=3
    )
    request.transition_logs.filter(transition="resolve_locally").update(comment=f"A\nB {NASTY}")
    cast.colleague.deleted_at = timezone.now()
    cast.colleague.save()
    return request


def contexts(request, cast):
    """The page's context for each reader, and the reference's (the ORM's querysets)."""
    from engineering_requests.views import _timeline

    for user in (cast.official, cast.delegate, cast.contact):
        er = selectors.request_by_pk(request.pk)
        lists = selectors.request_page_lists(er, user)
        staff = user == cast.delegate
        new = {
            "engineering_request": er,
            "user": user,
            "timeline": _timeline(lists.timeline, staff),
            "thread": lists.messages,
            "attachments": lists.attachments,
        }
        old = {
            "engineering_request": EngineeringRequest.objects.select_related("submitted_by").get(
                pk=request.pk
            ),
            "user": user,
            "timeline": _timeline(selectors.timeline(request), staff),
            "thread": list(selectors.messages_for(request, user)),
            "attachments": list(selectors.attachments_for(request, user)),
        }
        yield user, old, new


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_lists_are_written_as_the_template_loops_wrote_them(rich_request, cast, language):
    engine = engines["django"]
    old_template, new_template = engine.from_string(OLD_LISTS), engine.from_string(NEW_LISTS)
    http_request = RequestFactory().get("/")
    with translation.override(language), timezone.override("Europe/Paris"):
        for user, old, new in contexts(rich_request, cast):
            expected = old_template.render(old, http_request)
            assert new_template.render(new, http_request) == expected, user
            assert "&lt;b&gt;gras" in expected and "<b>gras" not in expected
            assert "portal-thread__item--progress" in expected
            assert "portal-thread__item--mine" in expected or user == cast.contact
            if user == cast.delegate:  # an internal note with only an internal file
                assert '<ul class="portal-thread__files">\n                  </ul>' in expected


def summaries(cast):
    """Requests with every field, and with none of the optional ones."""
    full = cast.request_in(S.LOCAL_SUPPORT)
    EngineeringRequest.objects.filter(pk=full.pk).update(
        programme=ProgrammeFactory(name=NASTY),
        description=f"Deux\nlignes {NASTY}",
        need=NASTY,
        estimated_budget=Decimal("1234567.89"),
        desired_start=datetime.date(2027, 1, 31),
    )
    full.domains.set([PriorityDomainFactory(name=NASTY), PriorityDomainFactory()])
    bare = cast.draft()
    EngineeringRequest.objects.filter(pk=bare.pk).update(
        description="",
        need="",
        engineering_kind="",
        intervention_form="",
        estimated_budget=None,
        desired_start=None,
    )
    bare.domains.clear()
    zero = cast.request_in(S.SUBMITTED, estimated_budget="0")
    cast.official.job_title = NASTY
    cast.official.save()
    return [full, bare, zero]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_summary_is_written_as_the_template_wrote_it(cast, language):
    engine = engines["django"]
    old_template, new_template = engine.from_string(OLD_SUMMARY), engine.from_string(NEW_SUMMARY)
    written = []
    with translation.override(language), timezone.override("Europe/Paris"):
        for request in summaries(cast):
            old = {
                "engineering_request": EngineeringRequest.objects.select_related(
                    "collectivity",
                    "departement",
                    "programme",
                    "contract",
                    "submitted_by",
                    "assigned_delegate",
                ).get(pk=request.pk),
                "domains": list(request.domains.values_list("name", flat=True)),
            }
            er = selectors.request_by_pk(request.pk)
            lists = selectors.request_page_lists(er, cast.official)
            new = {"engineering_request": er, "domains": lists.domains}
            expected = old_template.render(old)
            assert new_template.render(new) == expected
            written.append(expected)
    if language == "fr":  # the cases are in the comparison
        assert "Non renseignés" in written[1] and "Créée par" in written[1]
        assert "Budget estimé</dt><dd>1" in written[0] and "568 €" in written[0]
        assert "&lt;b&gt;gras" in written[0] and "<br>" in written[0]
        assert "<dd>0 €</dd>" in written[2] and "Déposée le" in written[2]
