"""``python -m identity.service.cli``: the ``jati`` command, as the tests and benchmarks run it."""

import sys

from identity.service.cli import main

sys.exit(main())
