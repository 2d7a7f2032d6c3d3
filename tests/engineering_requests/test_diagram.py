from pathlib import Path

from engineering_requests.diagram import state_machine_mermaid

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_shows_the_state_machine_generated_from_the_code():
    diagram = state_machine_mermaid()
    assert "in_review --> escalated: escalate" in diagram
    assert "escalated --> in_review: refer_back" in diagram
    assert f"```mermaid\n{diagram}\n```" in README.read_text(), (
        "README is out of date: paste `python manage.py state_diagram` in it."
    )
