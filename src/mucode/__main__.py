"""Allow ``python -m mucode``."""

from mucode.cli import main

main()
