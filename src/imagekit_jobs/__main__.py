"""``python -m imagekit_jobs``: the same as the ``imagekit-jobs`` command."""

import sys

from ._cli import main

sys.exit(main())
