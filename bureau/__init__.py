"""The bureau submission: the monthly 210 file, the checks before sending, the ledger of what was sent."""
