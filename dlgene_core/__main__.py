"""``python -m dlgene_core`` is the ``dlgene`` command."""

import sys

from .cli import console_main

sys.exit(console_main())
