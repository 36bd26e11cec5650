"""Coalition: enterprise federated learning where raw data never leaves its owner."""

__version__ = "0.1.0"
__all__ = ["__version__"]
