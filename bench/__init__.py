"""Benchmarks of the TrutoMcpServer provider against the emulator: `python -m bench`.

Kept free of imports so that the host process, which imports `bench.trivial_provider` or
`bench.reference_provider` by reference, pays nothing for this package.
"""
