"""`python -m antrian` runs the `antrian` command."""

from antrian.cli import main

raise SystemExit(main())
