"""The national catalogue that ``manage.py load_programmes`` seeds (data only, no database).

Sources: the ANCT 2020 roadmap (priority domains, forms of intervention, first-circle
operators) and the public presentations of each programme and contract. Links are given only
where the official page is known; the others are left for the admin to fill in.

Contracts name their territories by code: département INSEE code, EPCI SIREN, commune INSEE
code. Codes not loaded yet (``load_territories``) are skipped with a warning and linked on a
later run.
"""

from dataclasses import dataclass
from datetime import date

from programmes.enums import ContractKind, ProgrammeStatus

ANCT_SITE = "https://agence-cohesion-territoires.gouv.fr"

# Two levels: theme → items. Every item that the roadmap names (DESIGN §1).
DOMAINS: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "politique-de-la-ville",
        "Politique de la ville",
        [
            ("cites-educatives", "Cités éducatives"),
            ("reussite-educative", "Réussite éducative"),
            ("stages-de-3e", "Stages de 3e"),
            ("decrochage-scolaire", "Décrochage scolaire"),
            ("lutte-contre-les-discriminations", "Lutte contre les discriminations"),
            ("participation-citoyenne", "Participation citoyenne"),
            ("jeunesse-sports-culture-loisirs", "Jeunesse, sports, culture et loisirs éducatifs"),
            ("grande-equipe-reussite-republicaine", "Grande équipe de la réussite républicaine"),
            ("economie-sociale-et-solidaire", "Économie sociale et solidaire"),
            ("vie-associative", "Vie associative"),
            ("ambition-culturelle", "Ambition culturelle"),
        ],
    ),
    (
        "territoires-et-ruralite",
        "Territoires et ruralité",
        [
            ("agenda-rural", "Agenda rural"),
            ("climat", "Climat"),
            ("tourisme", "Tourisme"),
            ("programme-montagne", "Programme montagne"),
            ("action-coeur-de-ville", "Action cœur de ville"),
            ("petites-villes-de-demain", "Petites villes de demain"),
            ("acces-aux-services", "Accès aux services"),
            ("france-services", "France Services"),
            ("territoires-d-industrie", "Territoires d'industrie"),
            ("territoires-fragiles", "Territoires fragiles"),
            ("revitalisation-commerciale", "Revitalisation commerciale"),
            ("sante", "Santé"),
        ],
    ),
    (
        "numerique",
        "Numérique",
        [
            ("tres-haut-debit", "Accès au très haut débit"),
            ("fracture-numerique", "Fracture numérique"),
            ("inclusion-numerique", "Inclusion numérique"),
            ("tiers-lieux", "Tiers-lieux"),
            ("couverture-mobile", "Couverture mobile"),
        ],
    ),
    (
        "crise-et-relance",
        "Gestion de crise et relance",
        [
            ("relance", "Relance"),
            ("resilience", "Résilience"),
            ("transition-ecologique", "Transition écologique"),
            ("circuits-courts", "Circuits courts"),
        ],
    ),
]


@dataclass(frozen=True)
class ProgrammeEntry:
    code: str
    name: str
    domain: str
    short_description: str
    description: str
    url: str = ""
    status: str = ProgrammeStatus.ACTIVE
    start_date: date | None = None
    end_date: date | None = None


PROGRAMMES: list[ProgrammeEntry] = [
    ProgrammeEntry(
        code="acv",
        name="Action cœur de ville",
        domain="action-coeur-de-ville",
        short_description=(
            "Redynamiser le centre des villes moyennes : habitat, commerce, mobilités, "
            "patrimoine et services."
        ),
        description=(
            "Lancé en 2018, Action cœur de ville accompagne plus de 230 villes moyennes qui "
            "exercent une fonction de centralité pour leur bassin de vie. Chaque ville signe "
            "avec l'État et les partenaires financeurs (Banque des territoires, Action Logement, "
            "Anah) une convention qui porte un projet global de revitalisation du centre-ville : "
            "réhabilitation de l'habitat, développement économique et commercial, accès aux "
            "équipements et aux services publics, mobilités, mise en valeur de l'espace public "
            "et du patrimoine.\n\n"
            "Une seconde phase (2023-2026) prolonge l'accompagnement et l'étend aux entrées de "
            "ville et aux quartiers de gare."
        ),
        url=f"{ANCT_SITE}/action-coeur-de-ville-42",
        start_date=date(2018, 3, 27),
        end_date=date(2026, 12, 31),
    ),
    ProgrammeEntry(
        code="pvd",
        name="Petites villes de demain",
        domain="petites-villes-de-demain",
        short_description=(
            "Donner aux communes de moins de 20 000 habitants qui exercent des fonctions de "
            "centralité les moyens de concrétiser leur projet de territoire."
        ),
        description=(
            "Lancé le 1er octobre 2020, Petites villes de demain accompagne plus de 1 600 "
            "communes de moins de 20 000 habitants, et leur intercommunalité, qui exercent des "
            "fonctions de centralité et montrent des signes de fragilité.\n\n"
            "Le programme cofinance un chef de projet, apporte de l'ingénierie et des "
            "financements thématiques, et met les communes en réseau. Chaque commune signe une "
            "convention d'adhésion, puis engage une opération de revitalisation de territoire "
            "(ORT)."
        ),
        url=f"{ANCT_SITE}/petites-villes-de-demain-45",
        start_date=date(2020, 10, 1),
        end_date=date(2026, 12, 31),
    ),
    ProgrammeEntry(
        code="ti",
        name="Territoires d'industrie",
        domain="territoires-d-industrie",
        short_description=(
            "Une démarche de reconquête industrielle portée par les intercommunalités et les "
            "industriels."
        ),
        description=(
            "Lancé le 22 novembre 2018, Territoires d'industrie accompagne des territoires à "
            "forte dimension industrielle, formés d'une ou de plusieurs intercommunalités, pour "
            "y développer l'industrie : recruter, innover, attirer, simplifier. Chaque "
            "territoire est piloté par un binôme élu – industriel ; les régions sont chefs de "
            "file.\n\n"
            "La deuxième phase du programme (2023-2027) réunit 183 territoires autour de la "
            "réindustrialisation et de la transition écologique de l'industrie."
        ),
        url=f"{ANCT_SITE}/territoires-dindustrie-44",
        start_date=date(2018, 11, 22),
        end_date=date(2027, 12, 31),
    ),
    ProgrammeEntry(
        code="france_services",
        name="France Services",
        domain="france-services",
        short_description=(
            "Un guichet unique de proximité pour accompagner les usagers dans leurs démarches "
            "administratives."
        ),
        description=(
            "Labellisées depuis le 1er janvier 2020, les structures France Services réunissent "
            "en un même lieu, ou dans un bus itinérant, des agents formés pour accompagner les "
            "usagers dans leurs démarches du quotidien auprès de l'État et de ses partenaires : "
            "finances publiques, papiers d'identité et permis de conduire, justice, caisse "
            "d'allocations familiales, Assurance maladie, Assurance retraite, MSA, France "
            "Travail, La Poste…\n\n"
            "Chaque structure est portée par une collectivité, La Poste ou une association, et "
            "cofinancée par l'État. Le réseau compte plus de 2 700 lieux."
        ),
        url=f"{ANCT_SITE}/france-services-36",
        start_date=date(2020, 1, 1),
    ),
    ProgrammeEntry(
        code="cites_educatives",
        name="Cités éducatives",
        domain="cites-educatives",
        short_description=(
            "Une alliance des acteurs éducatifs pour les enfants et les jeunes de 0 à 25 ans des "
            "quartiers prioritaires."
        ),
        description=(
            "Les Cités éducatives intensifient la prise en charge éducative des enfants et des "
            "jeunes de 0 à 25 ans, avant, pendant, autour et après l'école, dans les quartiers "
            "prioritaires de la politique de la ville. Chaque cité réunit les parents, les "
            "services de l'État, les collectivités, les associations et les habitants autour de "
            "trois objectifs : conforter le rôle de l'école, promouvoir la continuité éducative "
            "et ouvrir le champ des possibles.\n\n"
            "Lancé en 2019 dans 80 territoires, le label en compte plus de 200 ; il est copiloté "
            "par l'ANCT et le ministère de l'Éducation nationale."
        ),
        url="https://www.citeseducatives.fr",
    ),
    ProgrammeEntry(
        code="villages_avenir",
        name="Villages d'avenir",
        domain="agenda-rural",
        short_description=(
            "Accompagner les communes rurales de moins de 3 500 habitants dans la réalisation "
            "de leurs projets."
        ),
        description=(
            "Annoncé en juin 2023 dans le plan France Ruralités et lancé le 1er janvier 2024, "
            "Villages d'avenir accompagne des communes rurales de moins de 3 500 habitants dans "
            "leurs projets : logement, mobilités, santé, commerce, patrimoine, transition "
            "écologique.\n\n"
            "Une centaine de chefs de projet de l'État, placés auprès des préfets, et une "
            "vingtaine de directeurs de projet du Cerema aident les maires à définir leur "
            "projet, à mobiliser l'ingénierie locale et à trouver les financements. Près de "
            "2 500 communes ont été retenues dans la première vague."
        ),
        url="https://www.cerema.fr/fr/villages-avenir",
        start_date=date(2024, 1, 1),
    ),
    ProgrammeEntry(
        code="montagne",
        name="Avenir Montagnes Ingénierie",
        domain="programme-montagne",
        short_description=(
            "Accompagner les territoires de montagne vers un tourisme diversifié, toutes "
            "saisons et durable."
        ),
        description=(
            "Volet ingénierie du plan Avenir Montagnes présenté le 27 mai 2021, ce programme "
            "piloté par l'ANCT avec la Banque des territoires accompagne une soixantaine de "
            "territoires de montagne qui veulent développer une offre touristique diversifiée, "
            "toutes saisons, durable, respectueuse de la biodiversité et des paysages, et sobre "
            "en ressources naturelles et foncières.\n\n"
            "Chaque territoire lauréat bénéficie pendant deux ans du financement d'un chef de "
            "projet et d'un appui méthodologique."
        ),
        url=(
            "https://www.cohesion-territoires.gouv.fr/"
            "avenir-montagnes-accompagner-les-territoires-de-montagne"
        ),
        start_date=date(2021, 5, 27),
    ),
    ProgrammeEntry(
        code="agenda_rural",
        name="Agenda rural",
        domain="agenda-rural",
        short_description="Le premier plan d'action du Gouvernement pour les territoires ruraux.",
        description=(
            "Présenté le 20 septembre 2019 au congrès de l'Association des maires ruraux de "
            "France, l'Agenda rural réunit 181 mesures pour les territoires ruraux : mobilités, "
            "numérique, santé, jeunesse, accès aux services publics et aux services de "
            "proximité, revitalisation des petits commerces…\n\n"
            "Le plan France Ruralités a pris le relais en juin 2023."
        ),
        status=ProgrammeStatus.CLOSED,
        start_date=date(2019, 9, 20),
        end_date=date(2023, 6, 15),
    ),
    ProgrammeEntry(
        code="france_tres_haut_debit",
        name="Plan France Très Haut Débit",
        domain="tres-haut-debit",
        short_description="Apporter le très haut débit, puis la fibre optique, à tous.",
        description=(
            "Lancé en 2013, le plan France Très Haut Débit organise le déploiement des réseaux "
            "à très haut débit sur tout le territoire : les opérateurs privés dans les zones "
            "les plus denses, les réseaux d'initiative publique des collectivités, "
            "subventionnés par l'État, ailleurs. L'ANCT en assure le pilotage et accompagne les "
            "collectivités porteuses de ces réseaux."
        ),
        url="https://www.francethd.fr",
    ),
    ProgrammeEntry(
        code="new_deal_mobile",
        name="New Deal mobile",
        domain="couverture-mobile",
        short_description="Améliorer la couverture mobile, en priorité dans les zones rurales.",
        description=(
            "Conclu en janvier 2018 entre l'État, l'Arcep et les opérateurs de téléphonie "
            "mobile, le New Deal mobile généralise la 4G et oblige les opérateurs à couvrir des "
            "zones identifiées localement. Dans chaque département, une équipe projet réunissant "
            "les collectivités et l'État désigne chaque année les zones à couvrir en priorité "
            "(dispositif de couverture ciblée) ; l'ANCT en assure le suivi national."
        ),
        start_date=date(2018, 1, 14),
    ),
    ProgrammeEntry(
        code="conseillers_numeriques",
        name="Conseillers numériques",
        domain="inclusion-numerique",
        short_description=(
            "Des conseillers formés pour accompagner chacun vers l'autonomie numérique."
        ),
        description=(
            "Financé par le plan France Relance, le dispositif Conseiller numérique recrute et "
            "forme des conseillers mis à la disposition des collectivités, des associations et "
            "des structures France Services, pour accompagner les habitants dans leurs usages "
            "numériques du quotidien : démarches en ligne, messagerie, sécurité, usages "
            "professionnels."
        ),
    ),
    ProgrammeEntry(
        code="fabriques_territoire",
        name="Nouveaux lieux, nouveaux liens – Fabriques de territoire",
        domain="tiers-lieux",
        short_description=(
            "Soutenir des tiers-lieux structurants dans les quartiers et les territoires ruraux."
        ),
        description=(
            "Lancé en 2019, le programme Nouveaux lieux, nouveaux liens soutient le "
            "développement des tiers-lieux en dehors des métropoles. Les Fabriques de "
            "territoire, tiers-lieux structurants installés dans les quartiers prioritaires de "
            "la politique de la ville ou dans les territoires ruraux, reçoivent une aide au "
            "fonctionnement pour accompagner les autres tiers-lieux de leur territoire."
        ),
    ),
]


@dataclass(frozen=True)
class ContractEntry:
    code: str
    name: str
    kind: str
    description: str
    url: str = ""
    status: str = ProgrammeStatus.ACTIVE
    start_date: date | None = None
    end_date: date | None = None
    departements: tuple[str, ...] = ()
    epcis: tuple[str, ...] = ()
    communes: tuple[str, ...] = ()


_PREFECTURE_HDF = (
    "https://www.prefectures-regions.gouv.fr/hauts-de-france/Region-et-institutions/"
    "L-action-de-l-Etat-dans-la-region/"
    "Amenagement-du-territoire-logement-transport-et-infrastructures/"
)

CONTRACTS: list[ContractEntry] = [
    ContractEntry(
        code="contrat-cohesion-territoriale",
        name="Contrat de cohésion territoriale",
        kind=ContractKind.COHESION_CONTRACT,
        description=(
            "Prévu par la loi du 22 juillet 2019 qui crée l'ANCT, le contrat de cohésion "
            "territoriale est le contrat intégrateur qui rassemble, sur un territoire, les "
            "engagements de l'État et des collectivités autour d'un projet de territoire, et "
            "dans lequel s'inscrivent les programmes d'appui. Il prend la forme des contrats "
            "de relance et de transition écologique (CRTE), devenus contrats pour la réussite "
            "de la transition écologique."
        ),
        url=f"{ANCT_SITE}/crte",
        start_date=date(2020, 1, 1),
    ),
    ContractEntry(
        code="pacte-sambre-avesnois-thierache",
        name="Pacte pour la réussite de la Sambre-Avesnois-Thiérache",
        kind=ContractKind.PACT,
        description=(
            "Signé le 7 novembre 2018 à Maubeuge, le pacte engage l'État, la région "
            "Hauts-de-France, les départements du Nord et de l'Aisne et les huit "
            "intercommunalités de l'arrondissement d'Avesnes-sur-Helpe et de la Thiérache de "
            "l'Aisne, au service de 305 000 habitants d'un territoire aux fortes difficultés "
            "socio-économiques : désenclavement (RN2), éducation, santé, développement "
            "économique, numérique, tourisme. Un deuxième pacte a été signé le 19 novembre "
            "2021."
        ),
        url=f"{_PREFECTURE_HDF}Pacte-pour-la-reussite-de-la-Sambre-Avesnois-Thierache",
        start_date=date(2018, 11, 7),
        epcis=(
            # Nord: arrondissement d'Avesnes-sur-Helpe.
            "200043396",  # CA Maubeuge Val de Sambre
            "200043263",  # CC du Cœur de l'Avesnois
            "200043321",  # CC du Pays de Mormal
            "200043404",  # CC du Sud Avesnois
            # Aisne: Thiérache.
            "240200444",  # CC de la Thiérache du Centre
            "240200634",  # CC des Portes de la Thiérache
            "240200600",  # CC des Trois Rivières
            "200071983",  # CC Thiérache Sambre et Oise
        ),
    ),
    ContractEntry(
        code="renouveau-bassin-minier",
        name="Engagement pour le renouveau du Bassin minier du Nord et du Pas-de-Calais",
        kind=ContractKind.COMMITMENT,
        description=(
            "Signé le 7 mars 2017 à Oignies pour dix ans par l'État, la région, les "
            "départements du Nord et du Pas-de-Calais et huit intercommunalités, l'engagement "
            "accompagne les 250 communes et 1,2 million d'habitants de l'ancien bassin minier : "
            "rénovation énergétique de 23 000 logements miniers, renouvellement des cités "
            "minières, mobilités, développement économique, santé, éducation, culture."
        ),
        url=(
            f"{_PREFECTURE_HDF}Engagement-pour-le-renouveau-du-Bassin-minier-du-Nord-et-du-"
            "Pas-de-Calais"
        ),
        start_date=date(2017, 3, 7),
        epcis=(
            # Seven of the eight signatory intercommunalités (public sources name these);
            # the eighth can be added in the admin (the loader never removes it).
            "200072460",  # CA de Béthune-Bruay, Artois-Lys Romane
            "246200364",  # CA de Lens-Liévin
            "246200299",  # CA d'Hénin-Carvin
            "200044618",  # CA Douaisis Agglo
            "245901152",  # Cœur d'Ostrevent
            "200042190",  # CA de la Porte du Hainaut
            "245901160",  # CA Valenciennes Métropole
        ),
    ),
    ContractEntry(
        code="contrats-de-ruralite",
        name="Contrats de ruralité",
        kind=ContractKind.RURALITY_CONTRACT,
        description=(
            "Créés en 2016, les contrats de ruralité ont coordonné les moyens de l'État et des "
            "collectivités au service des projets des territoires ruraux portés par les pôles "
            "d'équilibre territoriaux et ruraux et les intercommunalités : accès aux services "
            "et aux soins, revitalisation des bourgs-centres, attractivité, mobilités, "
            "transition écologique, cohésion sociale. Ils ont pris fin le 31 décembre 2020 ; "
            "les contrats de relance et de transition écologique ont pris le relais."
        ),
        status=ProgrammeStatus.CLOSED,
        end_date=date(2020, 12, 31),
    ),
]


@dataclass(frozen=True)
class OperatorEntry:
    code: str
    name: str
    description: str
    url: str
    agreement_name: str
    agreement_description: str

    @property
    def agreement_code(self) -> str:
        return f"convention-cadre-{self.code.replace('_', '-')}"


OPERATORS: list[OperatorEntry] = [
    OperatorEntry(
        code="ademe",
        name="ADEME – Agence de la transition écologique",
        description=(
            "L'ADEME accompagne les collectivités dans la transition écologique et "
            "énergétique : énergies renouvelables, rénovation énergétique, économie "
            "circulaire et déchets, sols pollués et friches, adaptation au changement "
            "climatique."
        ),
        url="https://www.ademe.fr",
        agreement_name="Convention-cadre ANCT – ADEME",
        agreement_description=(
            "Expertise et financements de l'ADEME pour les projets de transition écologique "
            "des territoires accompagnés par l'ANCT."
        ),
    ),
    OperatorEntry(
        code="anru",
        name="ANRU – Agence nationale pour la rénovation urbaine",
        description=(
            "L'ANRU finance et accompagne la transformation des quartiers prioritaires de la "
            "politique de la ville, notamment dans le nouveau programme national de "
            "renouvellement urbain (NPNRU)."
        ),
        url="https://www.anru.fr",
        agreement_name="Convention-cadre ANCT – ANRU",
        agreement_description=(
            "Ingénierie des projets de renouvellement urbain et articulation avec les "
            "programmes de l'ANCT dans les quartiers prioritaires."
        ),
    ),
    OperatorEntry(
        code="anah",
        name="Anah – Agence nationale de l'habitat",
        description=(
            "L'Anah améliore le parc de logements privés existants : rénovation énergétique, "
            "lutte contre l'habitat indigne, adaptation à la perte d'autonomie, redressement "
            "des copropriétés fragiles, revitalisation des centres anciens."
        ),
        url="https://www.anah.gouv.fr",
        agreement_name="Convention-cadre ANCT – Anah",
        agreement_description=(
            "Appui de l'Anah au volet habitat des projets, notamment dans Action cœur de ville "
            "et Petites villes de demain."
        ),
    ),
    OperatorEntry(
        code="cerema",
        name="Cerema",
        description=(
            "Centre d'études et d'expertise sur les risques, l'environnement, la mobilité et "
            "l'aménagement : expertise technique rare pour les collectivités, par exemple sur "
            "les ponts et autres ouvrages d'art, les risques naturels ou les mobilités."
        ),
        url="https://www.cerema.fr",
        agreement_name="Convention-cadre ANCT – Cerema",
        agreement_description=(
            "Mobilisation de l'expertise technique du Cerema pour les projets complexes des "
            "collectivités (ouvrages d'art, risques, mobilités, aménagement)."
        ),
    ),
    OperatorEntry(
        code="banque_des_territoires",
        name="Banque des territoires",
        description=(
            "Direction de la Caisse des dépôts au service des territoires : conseil, ingénierie, "
            "prêts de long terme et investissements pour les projets des collectivités."
        ),
        url="https://www.banquedesterritoires.fr",
        agreement_name="Convention-cadre ANCT – Banque des territoires",
        agreement_description=(
            "Crédits d'ingénierie, prêts et investissements de la Banque des territoires pour "
            "les projets accompagnés par l'ANCT et ses programmes."
        ),
    ),
]
