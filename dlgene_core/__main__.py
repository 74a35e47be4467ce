"""``python -m dlgene_core`` is the ``dlgene`` command."""

import sys

from .cli import main

sys.exit(main())
