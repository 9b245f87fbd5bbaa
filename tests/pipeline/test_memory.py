"""Freed memory goes back to the system (pipeline.memory): a big buffer freed after many
others of its size leaves the resident size where it was."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from pipeline.memory import return_freed_memory
if sys.argv[1] == "tuned":
    assert return_freed_memory()
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
# A big buffer freed raises glibc's threshold; the next ones come from the heap, and there
# small allocations made between them keep the heap from shrinking when they are freed.
PATTERN = bytes(range(256))
big = PATTERN * (16 << 12); del big  # 16 MiB: under the 32 MiB cap of that raise
before = rss()
chunks, keep = [], []
for n in range(40):
    chunks.append(PATTERN * (4 << 12))  # 4 MiB, every page written
    keep.append(bytearray(1024))
del chunks
print(rss() - before)
"""


def _kept(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip())


def test_freed_buffers_are_returned_once_tuned() -> None:
    assert _kept("tuned") < 16  # MB still resident after 160 MB were freed
    assert _kept("default") > 100  # the same without: glibc keeps it (so the check above can fail)
