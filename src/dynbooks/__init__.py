"""dynbooks: dynamic book management for B2B sales."""

__version__ = "0.1.0"
