"""End to end, in Debian's Chromium against a live server: an official files a request, answers
the delegate's question with a file, and ends up with an interlocuteur unique. axe-core checks
every portal page on the way (no serious or critical violation); screenshots land in
``var/screenshots/``."""

import datetime

import pytest
from django.utils import timezone

from engineering_requests import services
from engineering_requests.enums import RequestState as S
from engineering_requests.models import EngineeringRequest
from tests.accounts.factories import (
    DEFAULT_PASSWORD,
    DelegateFactory,
    NationalStaffFactory,
    OfficialFactory,
    UserFactory,
)
from tests.engineering_requests.factories import PDF_BYTES, Cast
from tests.programmes.factories import (
    PriorityDomainFactory,
    ProgrammeFactory,
    ProgrammeMembershipFactory,
)
from tests.territories.factories import (
    CollectivityFactory,
    DepartementFactory,
    EPCIFactory,
    RegionFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pdf(name):
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF_BYTES}


@pytest.fixture
def aubusson(transactional_db):
    """Aubusson (Creuse), a Petites villes de demain commune, its people and some history."""
    creuse = DepartementFactory(
        code="23", name="Creuse", region=RegionFactory(code="75", name="Nouvelle-Aquitaine")
    )
    autun = DepartementFactory(code="71", name="Saône-et-Loire")
    epci = EPCIFactory(siren="200067213", name="CC Creuse Grand Sud", departement=creuse)
    collectivity = CollectivityFactory(
        commune__code="23008",
        commune__name="Aubusson",
        commune__departement=creuse,
        commune__epci=epci,
        commune__population=3200,
    )
    theme = PriorityDomainFactory(code="ruralite", name="Territoires et ruralité")
    for index, name in enumerate(["Revitalisation commerciale", "Accès aux services", "Santé"]):
        PriorityDomainFactory(code=f"ruralite-{index}", name=name, parent=theme, position=index)
    pvd = ProgrammeFactory(code="pvd", name="Petites villes de demain")
    ProgrammeFactory(code="acv", name="Action cœur de ville")
    ProgrammeMembershipFactory(programme=pvd, territory__programme=pvd,
                               commune=collectivity.commune)  # fmt: skip
    cast = Cast(
        collectivity=collectivity,
        official=OfficialFactory(
            email="marie.lefevre@aubusson.fr",
            first_name="Marie",
            last_name="Lefèvre",
            job_title="Maire d'Aubusson",
            collectivities=[collectivity],
        ),
        colleague=OfficialFactory(collectivities=[collectivity]),
        other_official=OfficialFactory(
            collectivities=[CollectivityFactory(commune__departement=autun)]
        ),
        delegate=DelegateFactory(
            email="sophie.garnier@creuse.gouv.fr",
            first_name="Sophie",
            last_name="Garnier",
            job_title="Déléguée territoriale adjointe",
            departements=[creuse],
        ),
        other_delegate=DelegateFactory(departements=[autun]),
        national=NationalStaffFactory(),
        contact=UserFactory(
            email="thomas.roux@atd23.fr",
            first_name="Thomas",
            last_name="Roux",
            job_title="Ingénieur, agence technique départementale",
        ),
        nobody=UserFactory(),
    )
    for state, title in [
        (S.INFO_REQUESTED, "Création d'une maison de santé pluriprofessionnelle"),
        (S.SUBMITTED, "Revitalisation du centre-bourg : étude de programmation"),
        (S.ESCALATED, "Réseau de chaleur bois-énergie des bâtiments communaux"),
        (S.COMPLETED, "Diagnostic du pont de la rue Vieille"),
        (S.DRAFT, "Rénovation énergétique de l'école élémentaire"),
    ]:
        cast.request_in(state, title=title)
    return cast


def sign_in(page, base, email):
    page.goto(f"{base}/compte/connexion/")
    page.fill("#id_username", email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state("load")


def sign_out(page):
    page.click("header form[action='/compte/deconnexion/'] button")
    page.wait_for_selector("text=Vous êtes déconnecté")


def test_an_official_files_a_request_and_meets_the_interlocuteur_unique(
    live_server, page, audit, aubusson
):
    base = live_server.url
    cast = aubusson

    # Anonymous pages.
    page.goto(base + "/")
    audit(page, "01-accueil")
    page.click("text=Se connecter")
    audit(page, "02-connexion")
    page.goto(base + "/compte/mot-de-passe-oublie/")
    audit(page, "03-mot-de-passe-oublie")

    # Sign in: "Mes demandes", what waits first.
    sign_in(page, base, cast.official.email)
    assert page.url == f"{base}/demandes/"
    assert page.locator("#ce-qui-vous-attend").is_visible()
    audit(page, "04-mes-demandes-avant")

    # A new request: save an incomplete draft, fail to submit it, complete it, submit it.
    page.click("text=Nouvelle demande")
    page.wait_for_load_state("load")  # the deferred script that hides the contract list ran
    assert page.is_checked("#id_intervention_form_0")  # Petites villes de demain preselected
    assert page.locator("#choix-programme").is_visible()
    assert not page.locator("#choix-contrat").is_visible()
    audit(page, "05-nouvelle-demande")
    page.fill("#id_title", "Réhabilitation des halles du marché couvert")
    page.click("button[value=save]")
    page.wait_for_selector("text=Brouillon enregistré")
    draft = EngineeringRequest.objects.get(title="Réhabilitation des halles du marché couvert")
    assert draft.state == S.DRAFT
    page.click("button[value=submit]")
    page.wait_for_selector("[data-error-summary]")
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    assert page.title().startswith("Erreur")
    audit(page, "06-formulaire-erreurs")
    page.click("[data-error-summary] a[href='#id_description']")
    assert page.evaluate("document.activeElement.id") == "id_description"

    page.fill(
        "#id_description", "Les halles de 1900 ferment l'hiver ; la commune veut les rouvrir."
    )
    page.fill("#id_need", "Une étude de programmation et un appui pour le cahier des charges.")
    page.click("label[for=id_engineering_kind_0]")
    page.click("label[for=id_domains_0]")
    page.fill("#id_estimated_budget", "450 000")
    start = timezone.localdate() + datetime.timedelta(days=90)
    page.fill("#id_desired_start", start.isoformat())
    page.set_input_files("#id_attachments", files=[pdf("plan-des-halles.pdf")])
    before = EngineeringRequest.objects.count()
    page.dblclick("button[value=submit]")  # an impatient double click
    page.wait_for_url("**/confirmation/")
    reference = page.locator("[data-reference]").inner_text()
    audit(page, "07-confirmation")
    assert EngineeringRequest.objects.count() == before
    request = EngineeringRequest.objects.get(pk=draft.pk)
    assert request.state == S.SUBMITTED and request.reference == reference
    assert request.attachments.get().original_name == "plan-des-halles.pdf"

    # The delegate takes it up and asks a question (their side works in the admin).
    request = services.start_review(engineering_request=request, user=cast.delegate)
    request = services.request_info(
        engineering_request=request,
        user=cast.delegate,
        message="Pouvez-vous joindre le plan de financement prévisionnel ?",
    )

    # The official answers with a file.
    page.goto(base + request.get_absolute_url())
    page.wait_for_selector("text=Le délégué territorial vous demande un complément")
    audit(page, "08-complement-demande")
    page.fill("#id_message", "Voici le plan de financement voté en conseil municipal.")
    page.set_input_files("#id_files", files=[pdf("plan-de-financement.pdf")])
    page.click("#provide-info-form button[type=submit]")
    page.wait_for_selector("text=Votre complément a été envoyé")
    request.refresh_from_db()
    assert request.state == S.IN_REVIEW
    assert page.locator("text=plan-de-financement.pdf").first.is_visible()

    # The delegate finds a local answer; the official sees the interlocuteur unique.
    services.resolve_locally(
        engineering_request=request,
        user=cast.delegate,
        contact_name="Thomas Roux",
        contact_organisation="Agence technique départementale de la Creuse",
        contact_email=cast.contact.email,
        comment="L'ATD accompagne déjà la commune sur son centre-bourg.",
    )
    page.reload()
    assert page.locator("[data-contact-name]").inner_text() == "Thomas Roux"
    audit(page, "09-demande-interlocuteur-unique")
    with page.expect_download() as download:
        page.click("a.fr-download__link >> text=plan-de-financement.pdf")
    assert download.value.suggested_filename == "plan-de-financement.pdf"

    # Other portal pages.
    page.goto(base + "/demandes/")
    audit(page, "10-mes-demandes")
    page.set_viewport_size({"width": 375, "height": 812})
    audit(page, "11-mes-demandes-mobile")
    page.set_viewport_size({"width": 1280, "height": 900})
    submitted = EngineeringRequest.objects.get(state=S.SUBMITTED, collectivity=cast.collectivity)
    page.goto(base + f"/demandes/{submitted.pk}/retrait/")
    audit(page, "12-retrait")
    page.goto(base + "/compte/")
    audit(page, "13-mon-compte")
    page.goto(base + "/demandes/999999/")
    audit(page, "14-page-introuvable")

    # An expired session while typing: sign in again, nothing typed is lost.
    page.goto(base + "/demandes/nouvelle/")
    page.fill("#id_title", "Projet saisi avant l'expiration")
    page.context.clear_cookies(name="sessionid")
    page.click("button[value=save]")
    page.wait_for_url("**/compte/connexion/**")
    page.fill("#id_username", cast.official.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("text=Votre session avait expiré")
    assert page.input_value("#id_title") == "Projet saisi avant l'expiration"
    assert EngineeringRequest.objects.filter(title="Projet saisi avant l'expiration").exists()

    # The same page in English.
    page.goto(base + "/demandes/")
    page.click(".fr-translate__btn")
    page.click("button[lang=en]")
    page.wait_for_selector("h1:has-text('My requests')")
    audit(page, "15-my-requests-english")
    page.goto(base + request.get_absolute_url())
    page.wait_for_selector("text=Your single point of contact")
    audit(page, "16-request-english")
    page.click(".fr-translate__btn")
    page.click("button[lang=fr]")
    page.wait_for_selector("html[lang=fr]")

    # The interlocuteur unique posts a progress note.
    sign_out(page)
    sign_in(page, base, cast.contact.email)
    assert page.url == f"{base}/demandes/suivies/"
    audit(page, "17-demandes-suivies")
    page.click(f"text={request.title}")
    page.fill("#id_body", "Première réunion de cadrage avec les élus le 12 ; visite des halles.")
    page.click("#progress-note-form button[type=submit]")
    page.wait_for_selector("text=Votre point d'avancement est publié.")
    audit(page, "18-point-d-avancement")

    assert len(audit.audited) == 18
