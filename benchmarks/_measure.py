"""Run a Python snippet in a fresh interpreter and report its wall time and peak memory.

Each measured job runs in its own process so peak RSS (``ru_maxrss``) belongs to that job alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def measure(code: str, *, python: str = sys.executable, timeout: int = 3600) -> dict[str, float]:
    """Time ``code`` (which may print a JSON object of extra results on its last line)."""
    wrapper = textwrap.dedent(
        """
        import json, resource, time, sys
        _t0 = time.perf_counter()
        _extra = {}
        exec(compile(sys.stdin.read(), "<bench>", "exec"))
        _wall = time.perf_counter() - _t0
        # VmHWM belongs to this process image (reset by exec); ru_maxrss is inherited from the
        # parent on Linux and would overstate a light job started by a heavy parent.
        _hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
        _peak = (int(_hwm[0].split()[1]) if _hwm else
                 resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024
        print("__RESULT__" + json.dumps({"seconds": _wall, "peak_mb": _peak, **_extra}))
        """
    )
    proc = subprocess.run(
        [python, "-c", wrapper], input=code, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark job failed:\n{proc.stderr[-4000:]}")
    line = [x for x in proc.stdout.splitlines() if x.startswith("__RESULT__")][-1]
    return json.loads(line[len("__RESULT__") :])
