"""``python -m langrep.run_profile [WORKDIR]``: the same as ``langrep-profile``."""

import sys

from langrep.run_profile.text import main

sys.exit(main())
