"""Benchmarks of the TrutoMcpServer provider against the emulator: `python -m bench`.

Free of imports: the provider host imports `bench.reference_provider` or
`bench.null_provider` by reference and should pay nothing for the package.
"""
