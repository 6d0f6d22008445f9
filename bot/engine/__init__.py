"""The daemon's shell: context, cycle, reader, executor, jobs (docs/architecture.md §7)."""
