"""Every URL of the project × seven roles × GET and POST → the designed answer.

The URL conf is enumerated (``get_resolver()``, the admin's URLs included): a URL without an
entry here fails ``test_every_url_has_an_entry``, and so does an entry whose URL is gone.

Each row gives the answers of the roles in this order (``matrix.ROLES``):
anonymous, official A, official of another collectivité (other département), delegate of the
département, delegate of another département, national staff, the local contact (interlocuteur
unique of the request in local support). Answers: an HTTP status, or L (redirect to the
portal's sign-in), A (redirect to the admin's sign-in), R (another redirect).

POSTs carry no data: an action must be refused (403/404/405) or fail validation (200, the
form with its errors), never change anything; the world is the same for every request.
Which object each URL is asked about is in ``matrix.url_for`` (e.g. the request page: the
request in local support, where the local contact is named).
"""

import os
import pprint

import pytest

from tests.anct_portal.matrix import build_world, enumerate_urls, observe

pytestmark = pytest.mark.django_db

NOT_FOR_STAFF = ("A A A 403 403 403 A",) * 2  # staff roles hold no Django model permission
REDIRECT_TO_CHANGE = ("A A A R R R A",) * 2  # the admin's "<object_id>/" → ".../change/"

# Model admins for superusers only (reference data, accounts, axes, DSFR settings): the
# standard admin URLs of each answer NOT_FOR_STAFF. Officials and the local contact never
# reach a view of the admin (sent to its sign-in page).
SUPERUSER_MODEL_ADMINS = (
    "auth.group",
    "accounts.user",
    "axes.accessattempt",
    "axes.accessfailurelog",
    "axes.accesslog",
    "dsfr.dsfrconfig",
    "notifications.notificationpreference",
    "programmes.contract",
    "programmes.frameworkagreement",
    "programmes.localprovider",
    "programmes.operator",
    "programmes.prioritydomain",
    "programmes.programme",
    "programmes.programmemembership",
    "programmes.programmeterritory",
    "territories.collectivity",
    "territories.commune",
    "territories.departement",
    "territories.epci",
    "territories.region",
)


def _model_admin_rows(label: str) -> dict:
    app, model = label.split(".")
    rows = {
        f"admin:{app}_{model}_{view}": NOT_FOR_STAFF
        for view in ("changelist", "add", "history", "delete", "change")
    }
    rows[f"admin/{app}/{model}/<path:object_id>/"] = REDIRECT_TO_CHANGE
    return rows


MATRIX: dict[str, tuple[str, str]] = {
    "home": ("200 200 200 200 200 200 200", "200 200 200 200 200 200 200"),
    "healthz": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405"),
    "set_language": ("R R R R R R R", "R R R R R R R"),
    "territories:search": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405"),
    "admin:index": ("A A A 200 200 200 A", "A A A 200 200 200 A"),
    "admin:login": ("200 200 200 R R R 200", "200 200 200 200 200 200 200"),
    "admin:logout": ("R R R 405 405 405 R", "R R R R R R R"),
    "admin:password_change": ("A A A 200 200 200 A", "A A A 200 200 200 A"),
    "admin:password_change_done": ("A A A 200 200 200 A", "A A A 405 405 405 A"),
    "admin:autocomplete": ("A A A 403 403 403 A", "A A A 405 405 405 A"),
    "admin:jsi18n": ("A A A 200 200 200 A", "A A A 405 405 405 A"),
    "admin:view_on_site": ("A A A R 404 R A", "A A A R 404 R A"),
    "admin:auth_user_password_change": ("A A A 403 403 403 A", "A A A 403 403 403 A"),
    "admin:engineering_requests_engineeringrequest_transition": (
        "A A A 200 404 403 A",
        "A A A 200 404 403 A",
    ),
    "admin:engineering_requests_engineeringrequest_message": (
        "A A A 405 405 405 A",
        "A A A 200 404 200 A",
    ),
    "admin:engineering_requests_engineeringrequest_attachment": (
        "A A A 200 404 200 A",
        "A A A 200 404 200 A",
    ),
    "admin:engineering_requests_engineeringrequest_export": (
        "A A A 200 200 200 A",
        "A A A 200 200 200 A",
    ),
    "admin:engineering_requests_engineeringrequest_comite_report": (
        "A A A 200 200 200 A",
        "A A A 200 200 200 A",
    ),
    "admin:engineering_requests_engineeringrequest_changelist": (
        "A A A 200 200 200 A",
        "A A A 200 200 200 A",
    ),
    "admin:engineering_requests_engineeringrequest_add": (
        "A A A 403 403 403 A",
        "A A A 403 403 403 A",
    ),
    "admin:engineering_requests_engineeringrequest_history": (
        "A A A 200 404 200 A",
        "A A A 200 404 200 A",
    ),
    "admin:engineering_requests_engineeringrequest_delete": (
        "A A A 403 403 403 A",
        "A A A 403 403 403 A",
    ),
    "admin:engineering_requests_engineeringrequest_change": (
        "A A A 200 404 200 A",
        "A A A 403 404 403 A",
    ),
    "admin/engineering_requests/engineeringrequest/<path:object_id>/": (
        "A A A R R R A",
        "A A A R R R A",
    ),
    "admin:engineering_requests_escalatedrequest_changelist": (
        "A A A 403 403 200 A",
        "A A A 403 403 200 A",
    ),
    "admin:engineering_requests_escalatedrequest_add": (
        "A A A 403 403 403 A",
        "A A A 403 403 403 A",
    ),
    "admin:engineering_requests_escalatedrequest_history": (
        "A A A 404 404 R A",
        "A A A 404 404 R A",
    ),
    "admin:engineering_requests_escalatedrequest_delete": (
        "A A A 403 403 403 A",
        "A A A 403 403 403 A",
    ),
    "admin:engineering_requests_escalatedrequest_change": (
        "A A A 404 404 R A",
        "A A A 404 404 R A",
    ),
    "admin/engineering_requests/escalatedrequest/<path:object_id>/": (
        "A A A R R R A",
        "A A A R R R A",
    ),
    "admin:notifications_notification_changelist": ("A A A 200 200 200 A", "A A A 200 200 200 A"),
    "admin:notifications_notification_add": ("A A A 403 403 403 A", "A A A 403 403 403 A"),
    "admin:notifications_notification_history": ("A A A R R R A", "A A A R R R A"),
    "admin:notifications_notification_delete": ("A A A 403 403 403 A", "A A A 403 403 403 A"),
    "admin:notifications_notification_change": ("A A A R R R A", "A A A 403 403 403 A"),
    "admin/notifications/notification/<path:object_id>/": ("A A A R R R A", "A A A R R R A"),
    "admin:app_list": ("A A A 200 200 200 A", "A A A 200 200 200 A"),
    "admin/(?P<url>.*)$": ("A A A 404 404 404 A", "A A A 404 404 404 A"),
    "engineering_requests:list": ("L 200 200 200 200 200 200", "L 405 405 405 405 405 405"),
    "engineering_requests:followed": ("L 200 200 200 200 200 200", "L 405 405 405 405 405 405"),
    "engineering_requests:create": ("L 200 200 R R R R", "L 200 200 R R R R"),
    "engineering_requests:detail": ("L 200 404 200 404 200 200", "L 405 405 405 405 405 405"),
    "engineering_requests:edit": ("L 200 404 404 404 404 404", "L 200 404 404 404 404 404"),
    "engineering_requests:submit": ("L 405 405 405 405 405 405", "L R 404 404 404 404 404"),
    "engineering_requests:confirmation": ("L 200 404 200 404 200 200", "L 405 405 405 405 405 405"),
    "engineering_requests:provide_info": ("L 405 405 405 405 405 405", "L 200 404 403 404 403 404"),
    "engineering_requests:message": ("L 405 405 405 405 405 405", "L 200 404 200 404 200 403"),
    "engineering_requests:progress_note": (
        "L 405 405 405 405 405 405",
        "L 403 404 403 404 403 200",
    ),
    "engineering_requests:withdraw": ("L 200 404 403 404 403 404", "L 200 404 403 404 403 404"),
    "engineering_requests:attachment": ("L 200 404 200 404 200 200", "L 405 405 405 405 405 405"),
    "programmes:programme_list": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405"),
    "programmes:programme_detail": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405"),
    "programmes:domain_list": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405"),
    "programmes:territory_search": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405"),
    "programmes:commune": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405"),
    "programmes:epci": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405"),
    "dashboard:kpi": ("L 403 403 200 200 200 403", "L 405 405 405 405 405 405"),
    "dashboard:public": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405"),
    "dashboard:public_csv": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405"),
    "notifications:inbox": ("L 200 200 200 200 200 200", "L 405 405 405 405 405 405"),
    "notifications:open": ("L 405 405 405 405 405 405", "L R 404 404 404 404 404"),
    "notifications:mark_read": ("L 405 405 405 405 405 405", "L R 404 404 404 404 404"),
    "notifications:mark_all_read": ("L 405 405 405 405 405 405", "L R R R R R R"),
    "notifications:preferences": ("L 200 200 200 200 200 200", "L R R R R R R"),
    "notifications:dev_mails": ("404 404 404 404 404 404 404", "404 404 404 404 404 404 404"),
    "accounts:account": ("L 200 200 200 200 200 200", "L 200 200 200 200 200 200"),
    "accounts:login": ("200 R R R R R R", "200 R R R R R R"),
    "accounts:logout": ("405 405 405 405 405 405 405", "R R R R R R R"),
    "accounts:password_change": ("L 200 200 200 200 200 200", "L 200 200 200 200 200 200"),
    "accounts:password_reset": ("200 200 200 200 200 200 200", "200 200 200 200 200 200 200"),
    "accounts:password_reset_done": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405"),
    "accounts:password_reset_confirm": ("R R R R R R R", "R R R R R R R"),
    "accounts:password_reset_complete": (
        "200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405",
    ),
}
for _label in SUPERUSER_MODEL_ADMINS:
    MATRIX.update(_model_admin_rows(_label))


def test_every_url_has_an_entry():
    keys = [key for key, _route, _name in enumerate_urls()]
    assert len(keys) == len(set(keys))
    assert sorted(set(keys) - set(MATRIX)) == [], "URLs without an entry in the matrix"
    assert sorted(set(MATRIX) - set(keys)) == [], "entries whose URL is gone"


def test_permission_matrix():
    """Every URL × role × method answers as designed; the differences are listed."""
    observed = observe(build_world())
    if os.environ.get("MATRIX_RECORD"):  # to review a change: MATRIX_RECORD=/tmp/m.txt
        with open(os.environ["MATRIX_RECORD"], "w") as out:
            out.write(pprint.pformat(observed, width=100, sort_dicts=False))
    differences = [
        f"{key} {method}: expected {expected[i]!r}, got {observed[key][i]!r}"
        for key, expected in MATRIX.items()
        if key in observed
        for i, method in enumerate(("GET", "POST"))
        if observed[key][i] != expected[i]
    ]
    assert differences == []
