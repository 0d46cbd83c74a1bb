"""buuta's optimizer: courier routes for a day of dossier pickups and returns.

Public surface: :func:`plan_request` (request JSON → plan JSON), :func:`plan_day` (typed request
→ typed :class:`Plan`), :func:`replan` and :func:`replan_plan` (re-planning in the day),
:func:`plan_from_json` and :func:`plan_to_json` (the one reader and writer of the plan JSON),
:class:`RequestError`, :class:`Progress`, :class:`SolveParams`, and the core problem types for
those who build problems directly.
"""

from routing.model import Problem as Problem
from routing.model import ProblemBuilder as ProblemBuilder
from routing.model import Progress as Progress
from routing.model import Solution as Solution
from routing.model import SolveParams as SolveParams
from routing.plan import Plan as Plan
from routing.plan import PlanError as PlanError
from routing.plan import plan_from_json as plan_from_json
from routing.plan import plan_to_json as plan_to_json
from routing.planner import plan_day as plan_day
from routing.planner import plan_request as plan_request
from routing.replan import replan as replan
from routing.replan import replan_plan as replan_plan
from routing.request import RequestError as RequestError

__all__ = [
    "Plan",
    "PlanError",
    "Problem",
    "ProblemBuilder",
    "Progress",
    "RequestError",
    "Solution",
    "SolveParams",
    "plan_day",
    "plan_from_json",
    "plan_request",
    "plan_to_json",
    "replan",
    "replan_plan",
]
