"""`python -m oafetch.simweb serve ...`: run the simulated scholarly web (see docs/simweb.md)."""

from __future__ import annotations

import sys

from .server import main

if __name__ == "__main__":
    sys.exit(main())
