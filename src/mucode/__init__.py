"""mucode: multi-turn code generation with execution feedback (muCode, ICML 2025)."""

__version__ = "0.1.0"
