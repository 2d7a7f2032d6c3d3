"""The world of the permission matrix: every URL of the production URL conf, seven roles, real
objects to put in each URL, and what each answer means.

``observe`` signs each role in once and asks every URL with GET, then with POST (no data: a
POST that would change something must be refused or fail validation, so the data set stays
the same from the first request to the last).
"""

from dataclasses import dataclass
from urllib.parse import urlparse

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from dsfr.models import DsfrConfig

from accounts import roles
from engineering_requests import services
from engineering_requests.enums import RequestState
from engineering_requests.models import EngineeringRequest
from notifications.enums import Channel
from notifications.models import Notification, NotificationPreference
from tests.engineering_requests.factories import Cast, pdf_upload
from tests.programmes.factories import (
    LocalProviderFactory,
    PriorityDomainFactory,
    ProgrammeFactory,
    ProgrammeMembershipFactory,
)
from tests.territories.factories import EPCIFactory

ROLES = (
    "anonymous",
    "official",  # official A: member of the requests' collectivité
    "other_official",  # official of a collectivité of another département
    "delegate",  # delegate of the requests' département
    "other_delegate",  # delegate of another département
    "national",  # national staff
    "contact",  # the interlocuteur unique named on the request in local support
)
METHODS = ("GET", "POST")


def url_key(name: str | None, route: str) -> str:
    return name or route


def enumerate_urls(resolver=None, prefix="", namespace=""):
    """(key, full route, name) of every pattern, the admin's included."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from enumerate_urls(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else None
            route = prefix + str(pattern.pattern)
            yield url_key(name, route), route, name


@dataclass
class World:
    cast: Cast
    draft: EngineeringRequest  # incomplete: a POST to "déposer" cannot submit it
    info_requested: EngineeringRequest
    in_review: EngineeringRequest
    escalated: EngineeringRequest
    local_support: EngineeringRequest
    attachment: object
    notification: Notification
    objects: dict  # admin "app_label.model" -> pk of a row
    programme_code: str
    commune_code: str
    epci_siren: str
    reset_uid: str
    reset_token: str

    def users(self) -> dict:
        c = self.cast
        return {
            "anonymous": None,
            "official": c.official,
            "other_official": c.other_official,
            "delegate": c.delegate,
            "other_delegate": c.other_delegate,
            "national": c.national,
            "contact": c.contact,
        }


def build_world() -> World:
    cast = Cast.create()
    draft = cast.request_in(RequestState.DRAFT, description="")
    info_requested = cast.request_in(RequestState.INFO_REQUESTED)
    in_review = cast.request_in(RequestState.IN_REVIEW)
    escalated = cast.request_in(RequestState.ESCALATED)
    local_support = cast.request_in(RequestState.LOCAL_SUPPORT)
    attachment = services.add_attachment(
        engineering_request=local_support, user=cast.official, file=pdf_upload()
    )
    notification = Notification.objects.filter(
        recipient=cast.official, channel=Channel.IN_APP
    ).first()
    assert notification is not None
    membership = ProgrammeMembershipFactory(commune=cast.collectivity.commune)
    programme = ProgrammeFactory()
    provider = LocalProviderFactory(departement=cast.collectivity.departement)
    PriorityDomainFactory()
    NotificationPreference.objects.create(user=cast.official, receive_digests=True)
    AccessAttempt.objects.create(
        username="x@example.fr", ip_address="192.0.2.1", failures_since_start=1
    )
    AccessLog.objects.create(username="x@example.fr", ip_address="192.0.2.1")
    AccessFailureLog.objects.create(username="x@example.fr", ip_address="192.0.2.1")
    DsfrConfig.objects.get_or_create(language="fr")
    commune = cast.collectivity.commune
    commune.epci = EPCIFactory(departement=commune.departement)
    commune.save()
    objects = {
        "auth.group": Group.objects.get(name=roles.NATIONAL_STAFF_GROUP).pk,
        "accounts.user": cast.official.pk,
        "dsfr.dsfrconfig": DsfrConfig.objects.first().pk,
        "territories.region": commune.departement.region_id,
        "territories.departement": commune.departement_id,
        "territories.epci": commune.epci_id,
        "territories.commune": commune.pk,
        "territories.collectivity": cast.collectivity.pk,
        "programmes.prioritydomain": membership.programme.domain_id or PriorityDomainFactory().pk,
        "programmes.programme": programme.pk,
        "programmes.contract": _contract().pk,
        "programmes.operator": provider.operator_id or _operator().pk,
        "programmes.frameworkagreement": _agreement().pk,
        "programmes.localprovider": provider.pk,
        "programmes.programmeterritory": membership.territory_id,
        "programmes.programmemembership": membership.pk,
        "engineering_requests.engineeringrequest": escalated.pk,
        "engineering_requests.escalatedrequest": escalated.pk,
        "notifications.notification": notification.pk,
        "notifications.notificationpreference": NotificationPreference.objects.first().pk,
        "axes.accessattempt": AccessAttempt.objects.first().pk,
        "axes.accesslog": AccessLog.objects.first().pk,
        "axes.accessfailurelog": AccessFailureLog.objects.first().pk,
    }
    return World(
        cast=cast,
        draft=draft,
        info_requested=info_requested,
        in_review=in_review,
        escalated=escalated,
        local_support=local_support,
        attachment=attachment,
        notification=notification,
        objects=objects,
        programme_code=programme.code,
        commune_code=commune.code,
        epci_siren=commune.epci.siren,
        # Someone who never signs in here: signing in would change the token.
        reset_uid=urlsafe_base64_encode(force_bytes(cast.nobody.pk)),
        reset_token=default_token_generator.make_token(cast.nobody),
    )


def _operator():
    from tests.programmes.factories import OperatorFactory

    return OperatorFactory()


def _contract():
    from programmes.enums import ContractKind
    from programmes.models import Contract

    return Contract.objects.create(
        code="contrat-test", name="Contrat de test", kind=ContractKind.values[0]
    )


def _agreement():
    from programmes.models import FrameworkAgreement

    return FrameworkAgreement.objects.create(
        code="accord-test", name="Convention-cadre de test", operator=_operator()
    )


# Which object each URL is asked about --------------------------------------------------------

PORTAL_REQUEST_FOR = {
    "engineering_requests:detail": "local_support",
    "engineering_requests:confirmation": "local_support",
    "engineering_requests:message": "local_support",
    "engineering_requests:progress_note": "local_support",
    "engineering_requests:attachment": "local_support",
    "engineering_requests:provide_info": "info_requested",
    "engineering_requests:withdraw": "info_requested",
    "engineering_requests:edit": "draft",
    "engineering_requests:submit": "draft",
}


def url_for(world: World, key: str, route: str, name: str | None) -> str:
    """A real URL for the pattern, with real objects in it."""
    if name in PORTAL_REQUEST_FOR:
        request = getattr(world, PORTAL_REQUEST_FOR[name])
        kwargs = {"pk": request.pk}
        if name == "engineering_requests:attachment":
            kwargs["attachment_pk"] = world.attachment.pk
        return reverse(name, kwargs=kwargs)
    if name in ("notifications:open", "notifications:mark_read"):
        return reverse(name, kwargs={"pk": world.notification.pk})
    if name == "programmes:programme_detail":
        return reverse(name, kwargs={"code": world.programme_code})
    if name == "programmes:commune":
        return reverse(name, kwargs={"code": world.commune_code})
    if name == "programmes:epci":
        return reverse(name, kwargs={"siren": world.epci_siren})
    if name == "accounts:password_reset_confirm":
        return reverse(name, kwargs={"uidb64": world.reset_uid, "token": world.reset_token})
    if name == "admin:view_on_site":
        content_type = ContentType.objects.get_for_model(EngineeringRequest)
        return reverse(name, args=[content_type.pk, world.local_support.pk])
    if name == "admin:app_list":
        return reverse(name, kwargs={"app_label": "engineering_requests"})
    request_admin = "admin:engineering_requests_engineeringrequest_"
    if name == f"{request_admin}transition":
        return reverse(name, args=[world.in_review.pk, "request_info"])
    if name == f"{request_admin}message":
        return reverse(name, args=[world.in_review.pk])
    if name == f"{request_admin}attachment":
        return reverse(name, args=[world.local_support.pk, world.attachment.pk])
    if name == f"{request_admin}export":
        return reverse(name, args=["csv"])
    if name is not None:
        return reverse(name, args=_admin_object_args(world, name))
    # Unnamed: the admin's "<object_id>/" redirect of each model, and its catch-all.
    if route == "admin/(?P<url>.*)$":
        return "/admin/inexistant/"
    app_label, model = route.split("/")[1:3]
    return f"/admin/{app_label}/{model}/{world.objects[f'{app_label}.{model}']}/"


def _admin_object_args(world, name) -> list:
    if name == "admin:auth_user_password_change":  # Django's UserAdmin names it so
        return [world.objects["accounts.user"]]
    if not name.startswith("admin:") or not name.endswith(("_change", "_history", "_delete")):
        return []
    if name in ("admin:password_change",):
        return []
    base = name.removeprefix("admin:").rsplit("_", 1)[0]
    for label, pk in world.objects.items():
        if base == label.replace(".", "_"):
            return [pk]
    raise KeyError(name)


# Answers --------------------------------------------------------------------------------------

PORTAL_LOGIN = "/compte/connexion/"
ADMIN_LOGIN = "/admin/login/"


def answer(response) -> str:
    """200, 403 …; a redirect to a sign-in page is L (portal) or A (admin), another one R."""
    if response.status_code in (301, 302):
        path = urlparse(response["Location"]).path
        if path == PORTAL_LOGIN:
            return "L"
        if path == ADMIN_LOGIN:
            return "A"
        return "R"
    return str(response.status_code)


def clients(world: World) -> dict[str, Client]:
    result = {}
    for role, user in world.users().items():
        client = Client()
        if user is not None:
            client.force_login(user)
        result[role] = client
    return result


# Views that end or change the session: asked with a client of their own.
SESSION_CHANGING = {"accounts:logout", "admin:logout", "set_language", "accounts:login"}


def observe(world: World) -> dict[str, tuple[str, str]]:
    """{url key: (GET row, POST row)}, each row the answers of ROLES separated by spaces."""
    signed_in = clients(world)
    users = world.users()
    observed = {}
    for key, route, name in enumerate_urls():
        url = url_for(world, key, route, name)
        rows = []
        for method in METHODS:
            answers = []
            for role in ROLES:
                client = signed_in[role]
                if key in SESSION_CHANGING:
                    client = Client()
                    if users[role] is not None:
                        client.force_login(users[role])
                send = client.get if method == "GET" else client.post
                answers.append(answer(send(url)))
            rows.append(" ".join(answers))
        observed[key] = tuple(rows)
    return observed
