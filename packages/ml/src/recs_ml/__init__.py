"""recs_ml: data, models, evaluation, pipeline, registry and endpoint."""
