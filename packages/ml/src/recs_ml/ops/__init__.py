"""After training: the model registry, the deployer that serves an approved version, and
which model the CLI answers from."""
