"""`python -m oafetch` runs the command line."""

from .cli import main

main()
