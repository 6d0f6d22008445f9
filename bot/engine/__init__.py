"""The imperative shell: hedge cycle, executor, journal, scheduler wiring (ARCHITECTURE §2)."""
