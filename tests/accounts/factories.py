import factory
from django.contrib.auth.models import Group

from accounts.models import CollectivityMembership, DelegateAssignment, User
from accounts.roles import NATIONAL_STAFF_GROUP
from tests.territories.factories import CollectivityFactory, DepartementFactory

DEFAULT_PASSWORD = "mot-de-passe-de-test-2026"


class UserFactory(factory.django.DjangoModelFactory):
    """A plain account. Traits give it a role:

    - ``UserFactory(official=True)``: member of a new commune collectivité
      (or pass ``official__collectivity=...`` through ``OfficialFactory``);
    - ``DelegateFactory(departements=[dep])``; ``NationalStaffFactory()``.
    """

    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"utilisateur{n}@example.fr")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    class Params:
        # Support staff of the portal (``UserFactory(superuser=True)``): no role, full admin.
        superuser = factory.Trait(is_staff=True, is_superuser=True)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OfficialFactory(UserFactory):
    job_title = "Maire"

    @factory.post_generation
    def collectivities(obj, create, extracted, **kwargs):
        if not create:
            return
        for collectivity in extracted or [CollectivityFactory()]:
            CollectivityMembership.objects.create(user=obj, collectivity=collectivity)


class DelegateFactory(UserFactory):
    is_staff = True
    job_title = "Délégué territorial adjoint"

    @factory.post_generation
    def departements(obj, create, extracted, **kwargs):
        if not create:
            return
        for departement in extracted or [DepartementFactory()]:
            DelegateAssignment.objects.create(user=obj, departement=departement)


class NationalStaffFactory(UserFactory):
    is_staff = True
    job_title = "Chargé de mission ANCT"

    @factory.post_generation
    def national_group(obj, create, extracted, **kwargs):
        if create:
            group, _ = Group.objects.get_or_create(name=NATIONAL_STAFF_GROUP)
            obj.groups.add(group)
