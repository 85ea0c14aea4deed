"""`python -m kaizen <command>`."""

import sys

from kaizen.cli import main

sys.exit(main())
