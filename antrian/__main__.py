"""`python -m display_server` runs the `antrian` command."""

from display_server.cli import main

raise SystemExit(main())
