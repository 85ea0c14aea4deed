"""`python -m kaizen <command>`."""

from kaizen.cli import run

run()
