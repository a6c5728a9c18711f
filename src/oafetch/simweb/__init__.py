"""simweb: a simulated scholarly web on loopback (real response shapes, scripted faults).

Start it with `SimWeb(workdir, works=N, seed=S, profile=NAME)` (a context manager around
`python -m oafetch.simweb serve`); see docs/simweb.md for hosts, profiles and fault endpoints.
"""

from __future__ import annotations

from .pdfgen import make_pdf
from .process import SimWeb, SimWebError
from .scenarios import PROFILES, SCENARIOS, Scenario
from .world import SimWork, build_world

__all__ = [
    "PROFILES",
    "SCENARIOS",
    "Scenario",
    "SimWeb",
    "SimWebError",
    "SimWork",
    "build_world",
    "make_pdf",
]
