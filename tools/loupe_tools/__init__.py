"""Shared helpers for building Loupe's bundled demo models (see models/README.md)."""
