"""Errors a user (or a feed) causes: one clear line each, never a traceback."""


class WarehouseError(Exception):
    """Base of every error the project reports to people as a one-line message."""


class BatchNotReady(WarehouseError):
    """The batch folder has no manifest yet: the source system is still writing it."""


class BatchRejected(WarehouseError):
    """The batch cannot be trusted as a whole: nothing of it is loaded."""

    def __init__(self, batch_month: str, reason: str, file_name: str | None = None) -> None:
        self.batch_month, self.reason, self.file_name = batch_month, reason, file_name
        where = f" ({file_name})" if file_name else ""
        super().__init__(f"batch {batch_month} rejected{where}: {reason}")


class WarehouseInUse(WarehouseError):
    """Another process holds the warehouse file (DuckDB allows one writer, or readers, never both)."""
