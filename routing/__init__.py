"""buuta's optimizer: courier routes for a day of dossier pickups and returns.

Public surface: :func:`plan_request` (request JSON → plan JSON), :func:`replan` (re-planning in
the day), :class:`RequestError`, :class:`Progress`, :class:`SolveParams`, and the core problem
types for those who build problems directly.
"""

from routing.dossiers import plan_request as plan_request
from routing.model import Problem as Problem
from routing.model import ProblemBuilder as ProblemBuilder
from routing.model import Progress as Progress
from routing.model import Solution as Solution
from routing.model import SolveParams as SolveParams
from routing.replan import replan as replan
from routing.request import RequestError as RequestError

__all__ = [
    "Problem",
    "ProblemBuilder",
    "Progress",
    "RequestError",
    "Solution",
    "SolveParams",
    "plan_request",
    "replan",
]
