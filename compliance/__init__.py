"""Compliance: why a customer was reported, or not, and what was sent."""
