"""``python -m bot``: run the chat fronts (same as ``reelfactory serve``)."""

import sys

from bot import main

sys.exit(main())
