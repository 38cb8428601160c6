"""Options of the synthetic source system."""

from __future__ import annotations

from dataclasses import dataclass

from foundation.landing import ENCODINGS, FORMATS


class GeneratorConfigError(ValueError):
    """An option of the generator is out of range."""


@dataclass(frozen=True)
class GeneratorConfig:
    customers: int = 20_000
    first_month: str = "2024-01"
    months: int = 24
    seed: int = 42
    encoding: str = "utf-8"
    file_format: str = "csv"
    # 1-based month of the window in which invitation waves start (DOMAIN: rollout).
    # Pre-rollout authorizations are signed about a year before it.
    rollout_month: int = 18
    # Dirty-data mode: share of each defect's file corrupted per defect class (0: clean data).
    dirty_rate: float = 0.0
    dirty_kinds: tuple[str, ...] = ()  # empty: every class in source_system.dirty.DEFECTS

    def __post_init__(self) -> None:
        if self.customers < 10:
            raise GeneratorConfigError("customers must be at least 10")
        if not 1 <= self.months <= 120:
            raise GeneratorConfigError("months must be between 1 and 120")
        if self.rollout_month < 1:  # after the window: no wave within it
            raise GeneratorConfigError("rollout month must be 1 or later")
        if self.encoding not in ENCODINGS:
            raise GeneratorConfigError(f"encoding must be one of {', '.join(ENCODINGS)}")
        if self.file_format not in FORMATS:
            raise GeneratorConfigError(f"format must be one of {', '.join(FORMATS)}")
        if not 0 <= self.dirty_rate <= 0.2:
            raise GeneratorConfigError("dirty rate must be between 0 and 0.2")
        from source_system.dirty import DEFECTS

        unknown = sorted(set(self.dirty_kinds) - set(DEFECTS))
        if unknown:
            raise GeneratorConfigError(f"unknown defect classes {unknown}; known: {', '.join(DEFECTS)}")
        if self.dirty_rate and self.file_format != "csv":
            raise GeneratorConfigError("dirty-data mode writes CSV batches")
        if self.file_format == "parquet" and self.encoding != "utf-8":
            raise GeneratorConfigError("Parquet batches are always utf-8")
        try:
            year, month = (int(p) for p in self.first_month.split("-"))
            if not (1990 <= year <= 2100 and 1 <= month <= 12) or len(self.first_month) != 7:
                raise ValueError
        except ValueError:
            raise GeneratorConfigError(f"first month must be YYYY-MM, got {self.first_month!r}") from None
