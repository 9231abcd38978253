"""Peak memory of a benchmark's child process, read from the child itself.

`ru_maxrss` of a child started by a large parent is not the child's own: Linux carries the
parent's high-water mark across fork and exec. /proc/self/status VmHWM belongs to the process's
own memory map, so the child reports it before it exits.
"""

from __future__ import annotations

# Appended to a child's code: prints "peak_gb <n>" as its last line.
REPORT_PEAK = """
for _line in open("/proc/self/status"):
    if _line.startswith("VmHWM:"):
        print(f"peak_gb {int(_line.split()[1]) / 1024**2:.2f}", flush=True)
"""


def peak_gb(output: str) -> float:
    """The peak a child printed with REPORT_PEAK."""
    lines = [line for line in output.splitlines() if line.startswith("peak_gb ")]
    return float(lines[-1].split()[1])
