"""The fault suite: one module per topic, one row per fault that was fixed (see tests/faults/README.md)."""
