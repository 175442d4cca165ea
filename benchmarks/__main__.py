"""`python -m gebench`: the `gebench` command line."""
import sys

from .cli import main

sys.exit(main())
