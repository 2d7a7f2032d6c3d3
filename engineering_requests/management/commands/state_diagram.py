from django.core.management.base import BaseCommand

from engineering_requests.diagram import state_machine_mermaid


class Command(BaseCommand):
    help = "Print the request state machine as a Mermaid diagram (pasted in the README)."

    def handle(self, *args, **options):
        self.stdout.write(state_machine_mermaid())
