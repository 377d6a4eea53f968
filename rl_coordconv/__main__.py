"""``python -m rl_coordconv``: the same as the ``rl-coordconv`` command."""

import sys

from rl_coordconv.cli import main

sys.exit(main())
