"""`python -m marketdata_assets.cli`: the same as the `marketdata` command."""

from marketdata_assets.cli import main

raise SystemExit(main())
