"""``python -P -m coalition.engine.worker SPEC``: run one worker (:mod:`.process`)."""

import sys

from coalition.engine.worker.process import main

sys.exit(main(sys.argv))
