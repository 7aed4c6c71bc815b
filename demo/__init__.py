"""A deterministic synthetic practice for demos, tests and benchmarks."""

from demo.generate import DemoSummary, generate_demo

__all__ = ["DemoSummary", "generate_demo"]
