"""The synthetic source system: writes landing batches exactly per contracts/landing.md."""

from source_system.config import GeneratorConfig
from source_system.generate import generate_landing

__all__ = ["GeneratorConfig", "generate_landing"]
