"""A Mermaid diagram of the request state machine, read from the django-fsm transitions."""

from django.utils import translation

from engineering_requests.enums import RequestState
from engineering_requests.models import EngineeringRequest


def state_machine_mermaid() -> str:
    field = EngineeringRequest._meta.get_field("state")
    edges = sorted(
        {
            (transition.source, transition.target, transition.name)
            for transition in field.get_all_transitions(EngineeringRequest)
        },
        key=lambda edge: (RequestState.values.index(edge[0]), edge[2]),
    )
    with translation.override("fr"):
        lines = ["stateDiagram-v2", f"    [*] --> {RequestState.DRAFT}"]
        lines += [f"    {state.value}: {state.label}" for state in RequestState]
        lines += [f"    {source} --> {target}: {name}" for source, target, name in edges]
        lines += [f"    {state} --> [*]" for state in RequestState.closed_states()]
    return "\n".join(lines)
