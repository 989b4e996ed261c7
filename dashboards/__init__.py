"""The consumer end: the local dashboard and the QuickSight/Tableau definitions behind the exposures.

It reads the marts the platform built (and dbt's manifest); it never drives the sources.
"""
