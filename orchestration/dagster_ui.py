"""`make dagster`: the Dagster UI and daemon (`dagster dev`) on the project's instance and warehouse.

`dagster dev` maps SIGTERM onto whatever handles SIGINT, and a process started in the background
inherits SIGINT ignored: started so (a service manager, `make dagster &`, a test) it ignored SIGTERM
too and had to be killed. Both signals are set back to their defaults before handing over."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from orchestration import settings


def main(argv: list[str] | None = None) -> None:
    home = settings.dagster_home()
    settings.write_dagster_instance_config(home)
    os.environ["DAGSTER_HOME"] = str(home)
    settings.export_for_subprocesses()
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_DFL)  # kept across exec; Python then raises KeyboardInterrupt on SIGINT
    dagster = str(Path(sys.executable).parent / "dagster")
    extra = sys.argv[1:] if argv is None else argv
    os.execv(dagster, [dagster, "dev", "-m", "orchestration.definitions", *extra])


if __name__ == "__main__":
    main()
