"""Command-line interface (thin; no business logic)."""
