"""`python -m cockpit` runs the same command line as the `cockpit` script."""

from cockpit.cli import main

raise SystemExit(main())
