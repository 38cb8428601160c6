"""Assets by layer: raw loads, then the dbt models."""
