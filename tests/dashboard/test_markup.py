"""dashboard.markup writes the département rows and the map's shapes in Python: the same markup,
byte for byte, as the template loops it replaced (kept here as the reference)."""

import random

import pytest
from django.template import engines
from django.template.defaultfilters import floatformat
from django.utils import translation

from dashboard import markup
from dashboard.map import choropleth

# The loops of templates/dashboard/_departement_table.html and _map.html before dashboard.markup.
TABLE_LOOP = """{% load i18n %}{% for row in departement_rows %}
        <tr data-departement="{{ row.code }}">
          <td>{{ row.code }}</td>
          <th scope="row">{{ row.name }}</th>
          <td class="dashboard-rate band-text-{% if row.rate is None %}none{% elif row.rate >= headline.target %}target{% else %}below{% endif %}">{% if row.rate is None %}—{% else %}{{ row.rate|floatformat:1 }} %{% endif %}</td>
          <td>{{ row.local }}</td>
          <td>{{ row.national }}</td>
          <td>{{ row.submitted }}</td>
          <td>{{ row.open }}</td>
          <td>{% if row.review_median is None %}—{% else %}{{ row.review_median|floatformat:1 }} j{% endif %}</td>
          <td>{% if row.decision_median is None %}—{% else %}{{ row.decision_median|floatformat:1 }} j{% endif %}</td>
        </tr>
      {% endfor %}"""  # noqa: E501
MAP_LOOP = """{% load i18n %}{% for shape in choropleth.shapes %}
        <path d="{{ shape.path }}" class="band-{{ shape.band }}" data-code="{{ shape.code }}"><title>{{ shape.code }}{% if shape.name %} – {{ shape.name }}{% endif %} : {% if shape.rate is None %}{% translate "aucune décision" %}{% else %}{{ shape.rate|floatformat:1 }} % ({{ shape.local }}/{{ shape.decided }}){% endif %}</title></path>
      {% endfor %}"""  # noqa: E501

NUMBERS = [0, 0.0, -0.0, -0.04, 0.05, 0.15, 0.25, 1.45, 2.675, 12.25, 71.25, 71.35, 89.95, 90.0,
           99.99, 100, 100.0, 1234.5, 12345.65, 1e-7, 3.0000000001, 1 / 3, 2 / 3]  # fmt: skip


def rows(seed: int) -> list[dict]:
    draw = random.Random(seed)

    def maybe(value):
        return None if draw.random() < 0.2 else value

    names = ["Ain", "Côtes-d'Armor", "<script>alert(1)</script>", 'Val "d" & Oise', "Corse-du-Sud"]
    result = []
    for index, code in enumerate(["01", "22", "2A", "75", "971", "976", "99"]):
        local, national = draw.randrange(0, 2000), draw.randrange(0, 300)
        result.append(
            {
                "code": code,
                "name": names[index % len(names)],
                "submitted": draw.randrange(0, 5000),
                "local": local,
                "national": national,
                "decided": local + national,
                "rate": maybe(round(draw.uniform(0, 100), 1)),
                "open": draw.randrange(0, 900),
                "review_median": maybe(draw.choice([draw.uniform(0, 400), *NUMBERS[:16]])),
                "decision_median": maybe(draw.uniform(0, 400)),
            }
        )
    return result


@pytest.mark.parametrize("language", ["fr", "en"])
def test_numbers_are_written_as_floatformat_writes_them(language):
    draw = random.Random(7)
    values = NUMBERS + [draw.uniform(0, 1000) for _ in range(2000)]
    values += [round(draw.uniform(0, 100), 1) for _ in range(500)]
    with translation.override(language):
        numbers = markup.Numbers()
        for value in values:
            assert numbers.one_decimal(value) == floatformat(value, 1), value
        for value in [0, 7, 1234, 123456]:
            template = engines["django"].from_string("{{ value }}")
            assert numbers.integer(value) == template.render({"value": value})


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("seed", range(5))
def test_departement_rows_are_the_template_loop(language, seed):
    data = rows(seed)
    with translation.override(language):
        expected = (
            engines["django"]
            .from_string(TABLE_LOOP)
            .render({"departement_rows": data, "headline": {"target": 90}})
        )
        assert markup.departement_rows(data, 90) == expected
    assert "&lt;script&gt;" in expected


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("seed", range(3))
def test_map_shapes_are_the_template_loop(language, seed):
    data = rows(seed)
    map_data = choropleth(data)
    with translation.override(language):
        expected = engines["django"].from_string(MAP_LOOP).render({"choropleth": map_data})
        assert markup.map_shapes(map_data["shapes"]) == expected
    assert expected.count("<path ") == 96
