"""A draft's review: what it changes against the published plan, and the promises it breaks.

One builder serves ``GET /v1/plans/{id}/changes`` (JSON, English codes) and the dispatcher's
console (the same facts in words). The changes come from :func:`routing.diff.compare_plans`,
the broken promises from the independent checker (:func:`routing.checker.check_plan`), run on
the draft against the request it answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geo.travel import TravelModel
from routing.checker import Violation, check_plan
from routing.diff import JobChange, PlanDiff, compare_plans
from tracking.models import StoredPlan

__all__ = ["Review", "draft_review"]

CHANGE_KINDS = ("dropped", "moved", "retimed", "added")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@dataclass(frozen=True, slots=True)
class Review:
    """A draft, the published plan it is compared with, the changes and the violations."""

    draft: StoredPlan
    against: StoredPlan | None
    diff: PlanDiff
    violations: tuple[Violation, ...]
    dossiers: dict[str, str]

    def change_json(self, change: JobChange) -> dict[str, Any]:
        """One change as ``GET /v1/plans/{id}/changes`` writes it."""
        return {
            "job": change.job,
            "dossier": self.dossiers.get(change.job),
            "change": change.change,
            "from": change.before,
            "to": change.after,
            "from_start": _iso(change.before_start),
            "to_start": _iso(change.after_start),
            "minutes": change.minutes,
            "reason": change.reason,
            "detail": change.detail,
        }

    def to_json(self) -> dict[str, Any]:
        """The answer of ``GET /v1/plans/{id}/changes``."""
        return {
            "plan_id": self.draft.id,
            "date": self.draft.date,
            "state": self.draft.state,
            "against": self.against.id if self.against is not None else None,
            "changes": [self.change_json(c) for c in self.diff.changes],
            "counts": {kind: self.diff.count(kind) for kind in CHANGE_KINDS},
            "kpis": {
                name: {"published": k.published, "draft": k.draft, "delta": k.delta}
                for name, k in self.diff.kpis.items()
            },
            "violations": [
                {"code": v.code, "detail": v.detail, "courier": v.courier, "job": v.job}
                for v in self.violations
            ],
        }


def _dossiers(*plans: StoredPlan | None) -> dict[str, str]:
    codes: dict[str, str] = {}
    for stored in plans:
        if stored is None:
            continue
        for job_id, job in stored.request_items("jobs").items():
            if job.get("dossier"):
                codes.setdefault(job_id, str(job["dossier"]))
    return codes


def draft_review(
    draft: StoredPlan, against: StoredPlan | None, *, travel: TravelModel | None = None
) -> Review:
    """Compare a draft with the day's published plan and check its promises.

    Parameters
    ----------
    draft
        The stored draft.
    against
        The day's published plan, or ``None`` when none is published.
    travel
        The travel model the service plans with (``None``: the great-circle default), for the
        checker's legs when the request carries no matrix.

    Returns
    -------
    Review
        The changes, the figures of both plans and the checker's violations of the draft (a
        request the checker cannot read gives one ``malformed`` violation saying why).
    """
    published = against.plan() if against is not None else None
    diff = compare_plans(published, draft.plan())
    try:
        violations = tuple(check_plan(draft.request_json, draft.plan_json, travel=travel))
    except ValueError as exc:
        violations = (Violation("malformed", f"the draft's request cannot be checked: {exc}"),)
    return Review(draft, against, diff, violations, _dossiers(draft, against))
