"""Dagster orchestration of the warehouse: raw loads, dbt models, jobs, and the project CLI."""
