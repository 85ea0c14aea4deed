"""Everything that touches files, subprocesses and the network: the only I/O of the core."""
