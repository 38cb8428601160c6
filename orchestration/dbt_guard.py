"""`crw-dbt`: dbt, ended with the process that started it.

dagster-dbt runs dbt as a child process. When a run is killed with SIGKILL, nothing tells that
child, and an orphaned `dbt build` kept the warehouse's write lock: the next run's loads failed
one after the other. This guard sits between the two: it forwards interrupts to dbt, and when
its parent is gone it stops dbt (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

POLL_SECONDS = 0.5
GRACE_SECONDS = 10


def _exit_code(process: subprocess.Popen) -> int:
    return process.returncode if process.returncode >= 0 else 128 - process.returncode


def main() -> None:
    parent = os.getppid()
    dbt = subprocess.Popen([str(Path(sys.executable).parent / "dbt"), *sys.argv[1:]])
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda received, _frame: dbt.send_signal(received))
    while True:
        try:
            dbt.wait(timeout=POLL_SECONDS)
            sys.exit(_exit_code(dbt))
        except subprocess.TimeoutExpired:
            if os.getppid() != parent:  # orphaned: the run that started us was killed
                dbt.terminate()
                try:
                    dbt.wait(timeout=GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    dbt.kill()
                    dbt.wait()
                sys.exit(_exit_code(dbt))


if __name__ == "__main__":
    main()
