"""Opening the warehouse file: one writer process or readers, never both (DuckDB), so a second
process is told who holds the file instead of getting DuckDB's lock error."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from foundation.errors import WarehouseInUse

LOCK_HOLDER = re.compile(r"Conflicting lock is held in .*? \(PID (\d+)\)")


def connect_warehouse(path: Path | str, read_only: bool = False, config: dict | None = None):
    """A DuckDB connection to the warehouse; WarehouseInUse, naming the process, when another holds it."""
    try:
        return duckdb.connect(str(path), read_only=read_only, config=config or {})
    except duckdb.IOException as exc:
        holder = LOCK_HOLDER.search(str(exc))
        if holder is None:
            raise
        pid = holder.group(1)
        raise WarehouseInUse(
            f"the warehouse {path} is in use by process {pid} ({_command_line(pid)}): "
            f"let it finish, or stop it (kill {pid}), then try again"
        ) from None


def _command_line(pid: str) -> str:
    """The holder's command (program name and arguments), to say what it is."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "no longer running"
    words = [w.decode(errors="replace") for w in raw.split(b"\0") if w]
    return " ".join([Path(words[0]).name, *words[1:]])[:120] if words else "unknown command"
