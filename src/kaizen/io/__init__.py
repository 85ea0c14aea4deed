"""Files, dvc's Python API and the network: the I/O the entry points call (the SQL lives in
events/, the git and dvc subprocesses in commands/runner.py); the pure core never imports it."""
