"""A screening process takes Arrow's buffers from the C library's allocator (see `open_engine`)."""

import os
import subprocess
import sys

PROBE = """
import pyarrow as pa
from portal.screening.engines import open_engine
before = pa.default_memory_pool().backend_name
open_engine("duckdb").dispose()
print(before, pa.default_memory_pool().backend_name)
"""


def test_opening_a_screening_engine_switches_arrow_to_the_system_allocator() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, env=env)
    before, after = done.stdout.split()
    assert before != "system"
    assert after == "system"
