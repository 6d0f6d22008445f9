"""`python -m bot` is the same as the `deltabot` console script."""

from bot.cli import main

raise SystemExit(main())
