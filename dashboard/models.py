"""The dashboards' narrow copy of the requests: one row per submitted request.

The requests table is wide (texts, ~50 columns): every aggregate over it spends most of its time
reading rows, not counting. ``RequestFact`` keeps only what the indicators read, with the two
delays in days already computed, so the dashboard scans a table about 3 times smaller and the
percentiles sort a plain column.

It is written by the database itself, never by Python: triggers on the requests table
(``dashboard.facts``, installed by the migrations on PostgreSQL and SQLite) copy a request on
every INSERT, UPDATE and DELETE, in the same transaction, whatever wrote it (services, admin,
``QuerySet.update``). Rows written while the triggers were off (bulk COPY) are covered by
``manage.py rebuild_dashboard_facts``.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from engineering_requests.enums import RequestState
from programmes.enums import InterventionForm, NationalInstrument


class RequestFact(models.Model):
    # Same names as on EngineeringRequest: the indicators' ORM code reads either.
    request = models.OneToOneField(
        "engineering_requests.EngineeringRequest",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    state = models.CharField(max_length=30, choices=RequestState.choices)
    departement = models.ForeignKey(
        "territories.Departement",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    programme = models.ForeignKey(
        "programmes.Programme",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    intervention_form = models.CharField(max_length=20, choices=InterventionForm.choices)
    national_instrument = models.CharField(max_length=30, choices=NationalInstrument.choices)
    operator = models.ForeignKey(
        "programmes.Operator",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    granted_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    submitted_at = models.DateTimeField(null=True)
    review_started_at = models.DateTimeField(null=True)
    resolved_locally_at = models.DateTimeField(null=True)
    escalated_at = models.DateTimeField(null=True)
    decided_at = models.DateTimeField(null=True)
    # COALESCE(resolved_locally_at, decided_at): the decision date of the monthly trend.
    decision_at = models.DateTimeField(null=True)
    # Escalation grounds (the rationales are texts on the request; only their presence counts).
    ground_fragility = models.BooleanField(default=False)
    ground_innovative = models.BooleanField(default=False)
    rare_expertise = models.BooleanField(default=False)
    national_scope = models.BooleanField(default=False)
    # Delays in days (float): submission → review start, submission → decision.
    review_days = models.FloatField(null=True)
    decision_days = models.FloatField(null=True)

    class Meta:
        verbose_name = _("demande (tableaux de bord)")
        verbose_name_plural = _("demandes (tableaux de bord)")
        indexes = [
            models.Index(fields=["submitted_at"], name="dashboard_fact_submitted_idx"),
            models.Index(
                fields=["decision_at", "resolved_locally_at"], name="dashboard_fact_decision_idx"
            ),
            models.Index(fields=["decided_at"], name="dashboard_fact_decided_idx"),
            models.Index(fields=["review_started_at"], name="dashboard_fact_review_at_idx"),
            models.Index(fields=["escalated_at"], name="dashboard_fact_escalated_idx"),
            models.Index(fields=["state", "submitted_at"], name="dashboard_fact_state_idx"),
            # The delay indexes (covering, PostgreSQL only) are in dashboard.facts.INDEXES.
        ]

    def __str__(self):
        return f"{self.request_id} ({self.state})"


class RequestCount(models.Model):
    """Counts of the facts per (département, state), for all time and without filters: what
    the pages of all of France show by default. PostgreSQL only: a trigger on the facts adds
    each fact's contribution and removes its old one in the same transaction, and
    ``dashboard.facts.rebuild`` recomputes them. Elsewhere (SQLite), and whenever a filter or
    a period applies, the counts are computed from the facts."""

    departement = models.ForeignKey(
        "territories.Departement",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    state = models.CharField(max_length=30, choices=RequestState.choices)
    # Same names as the aggregates of dashboard.selectors._counts.
    submitted = models.IntegerField(default=0)
    local = models.IntegerField(default=0)
    national = models.IntegerField(default=0)
    escalated = models.IntegerField(default=0)
    national_amount = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    ground_fragility = models.IntegerField(default=0)
    ground_innovative = models.IntegerField(default=0)
    ground_rare_expertise = models.IntegerField(default=0)
    ground_national_scope = models.IntegerField(default=0)
    review_count = models.IntegerField(default=0)
    review_values = models.IntegerField(default=0)
    decision_count = models.IntegerField(default=0)
    decision_values = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("compteurs des demandes (tableaux de bord)")
        verbose_name_plural = _("compteurs des demandes (tableaux de bord)")
        constraints = [
            models.UniqueConstraint(
                fields=["departement", "state"], name="dashboard_count_dep_state_unique"
            )
        ]

    def __str__(self):
        return f"{self.departement_id} {self.state}"
