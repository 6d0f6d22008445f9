"""Pure domain model: instruments, positions, snapshots, units and exposure.

Nothing here performs I/O or reads the clock; time is always a parameter.
"""
