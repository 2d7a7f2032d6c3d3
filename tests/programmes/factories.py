import factory

from programmes.enums import ProviderKind
from programmes.models import (
    LocalProvider,
    Operator,
    PriorityDomain,
    Programme,
    ProgrammeMembership,
    ProgrammeTerritory,
)
from tests.territories.factories import CommuneFactory, DepartementFactory


class PriorityDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriorityDomain
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"domaine-{n}")
    name = factory.Sequence(lambda n: f"Domaine {n}")
    parent = None


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"programme-{n}")
    name = factory.Sequence(lambda n: f"Programme {n}")


class OperatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Operator
        django_get_or_create = ("code",)

    code = "cerema"
    name = "Cerema"


class LocalProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LocalProvider

    name = factory.Sequence(lambda n: f"Agence technique départementale {n}")
    kind = ProviderKind.TECHNICAL_AGENCY
    departement = factory.SubFactory(DepartementFactory)
    contact_name = factory.Faker("name", locale="fr_FR")
    email = factory.Sequence(lambda n: f"contact{n}@atd.example.fr")


class ProgrammeTerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgrammeTerritory

    programme = factory.SubFactory(ProgrammeFactory)
    external_id = factory.Sequence(lambda n: f"t-{n}")
    name = factory.Sequence(lambda n: f"Territoire {n}")


class ProgrammeMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgrammeMembership

    territory = factory.SubFactory(ProgrammeTerritoryFactory)
    programme = factory.LazyAttribute(lambda o: o.territory.programme)
    commune = factory.SubFactory(CommuneFactory)
    epci = None
