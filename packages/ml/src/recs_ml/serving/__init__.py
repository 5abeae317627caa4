"""Models out: the serving signature, the IVF index, the exported artifact and its manifest,
recommendations from an artifact, and the local endpoint."""
