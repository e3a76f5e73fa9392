"""Every test process gets a tuning cache of its own and no background tuning, unless a test asks
for them: tuning would make timings and slot versions depend on what ran before."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("KILN_TUNE", "off")
os.environ.setdefault("KILN_CACHE_DIR", tempfile.mkdtemp(prefix="kiln-test-cache-"))
