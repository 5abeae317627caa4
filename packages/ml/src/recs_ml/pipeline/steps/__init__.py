"""Pipeline step scripts, run as ``python -m recs_ml.pipeline.steps.<step>`` locally and in
SageMaker containers; every path option defaults to the container's path (docs/contracts.md)."""
