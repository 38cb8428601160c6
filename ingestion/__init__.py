"""Landing-zone contract in code and the transactional raw loader (contracts/landing.md)."""
