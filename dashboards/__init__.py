"""The Streamlit dashboard over the published analytics copy (R15-safe): coverage, waves, reporting, quality, SQL."""
