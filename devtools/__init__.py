"""Development harnesses shared by the tests and the benches (not part of the product)."""
