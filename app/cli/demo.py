"""`steve demo` (being written)."""


def demo() -> None:
    """Create the demo practice."""
