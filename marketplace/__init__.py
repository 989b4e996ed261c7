"""The platform's command line (`marketplace`) and the demo wiring around the simulator.

This is the one layer that may import both the platform (``ingestion``, ``processing``)
and the simulated company (``simulator``); the platform itself never imports the simulator.
"""
