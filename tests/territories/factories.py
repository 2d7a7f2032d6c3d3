import factory

from territories.enums import CollectivityKind
from territories.models import EPCI, Collectivity, Commune, Departement, Region


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{(n % 900) + 100}")
    name = factory.Sequence(lambda n: f"Région {n}")


class DepartementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Departement
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{(n % 900) + 100}")
    name = factory.Sequence(lambda n: f"Département {n}")
    region = factory.SubFactory(RegionFactory)


class EPCIFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EPCI
        django_get_or_create = ("siren",)

    siren = factory.Sequence(lambda n: f"2{n:08d}")
    name = factory.Sequence(lambda n: f"Communauté de communes {n}")
    kind = "CC"
    population = 20_000
    departement = factory.SubFactory(DepartementFactory)


class CommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commune
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"9{n:04d}")
    name = factory.Sequence(lambda n: f"Commune {n}")
    siren = factory.Sequence(lambda n: f"21{n:07d}")
    departement = factory.SubFactory(DepartementFactory)
    population = 1_500
    epci = None

    class Params:
        in_epci = factory.Trait(
            epci=factory.SubFactory(EPCIFactory, departement=factory.SelfAttribute("..departement"))
        )


class CollectivityFactory(factory.django.DjangoModelFactory):
    """A commune collectivité by default; ``CollectivityFactory(epci_level=True)`` for an EPCI."""

    class Meta:
        model = Collectivity

    commune = factory.SubFactory(CommuneFactory)
    kind = CollectivityKind.COMMUNE
    code = factory.LazyAttribute(lambda o: o.commune.code)
    name = factory.LazyAttribute(lambda o: o.commune.name)
    population = factory.LazyAttribute(lambda o: o.commune.population)
    departement = factory.LazyAttribute(lambda o: o.commune.departement)

    class Params:
        epci_level = factory.Trait(
            commune=None,
            epci=factory.SubFactory(EPCIFactory),
            kind=CollectivityKind.EPCI,
            code=factory.LazyAttribute(lambda o: o.epci.siren),
            name=factory.LazyAttribute(lambda o: o.epci.name),
            population=factory.LazyAttribute(lambda o: o.epci.population),
            departement=factory.LazyAttribute(lambda o: o.epci.departement),
        )
