from django.db import models
from django.utils.translation import gettext_lazy as _


class InterventionForm(models.TextChoices):
    """The three forms of ANCT intervention (feuille de route 2020)."""

    PROGRAMME = "programme", _("Programme national d'appui")
    CONTRACT = "contract", _("Contrat ou pacte territorial")
    CUSTOM = "custom", _("Appui sur-mesure")


class NationalInstrument(models.TextChoices):
    """What national staff grant when they approve national support."""

    INTERNAL_SKILLS = "internal_skills", _("Compétences techniques internes de l'ANCT")
    STATE_MISSION = "state_mission", _("Mission de compétences techniques de l'État")
    SUBSIDY = "subsidy", _("Crédits – subvention directe")
    PURCHASE_ORDER = "purchase_order", _("Crédits – marché à bon de commande")
    FRAMEWORK_AGREEMENT = "framework_agreement", _("Convention-cadre avec un opérateur")

    @classmethod
    def credits(cls) -> set[str]:
        return {cls.SUBSIDY, cls.PURCHASE_ORDER}


class ProgrammeStatus(models.TextChoices):
    ACTIVE = "active", _("En cours")
    CLOSED = "closed", _("Terminé")


class ContractKind(models.TextChoices):
    COHESION_CONTRACT = "cohesion_contract", _("Contrat de cohésion territoriale")
    PACT = "pact", _("Pacte territorial")
    COMMITMENT = "commitment", _("Engagement territorial")
    RURALITY_CONTRACT = "rurality_contract", _("Contrat de ruralité")


class ProviderKind(models.TextChoices):
    TECHNICAL_AGENCY = "technical_agency", _("Agence technique départementale")
    CAUE = "caue", _("CAUE")
    URBAN_PLANNING_AGENCY = "urban_planning_agency", _("Agence d'urbanisme")
    DDT = "ddt", _("DDT(M)")
    SYNDICATE = "syndicate", _("Syndicat")
    OPERATOR_OFFICE = "operator_office", _("Implantation locale d'un opérateur")
    OTHER = "other", _("Autre")


class CatalogueSource(models.TextChoices):
    """Who created a catalogue row: ``load_programmes`` or a person in the admin."""

    CATALOGUE = "catalogue", _("Catalogue national (load_programmes)")
    ADMIN = "admin", _("Saisie dans l'administration")
