"""One module per DVC stage: read inputs, call pure code, write outputs atomically."""
