"""Great Expectations (GX Core 1.x) suites and the gate every landing file passes before raw."""
