"""``python -m symmetrykit.cli``: the same as the ``symmetrykit`` command."""

import sys

from . import main

sys.exit(main())
