"""The composition layer: wires the engine, venues, simulator and reports into programs."""
