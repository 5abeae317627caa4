"""The training pipeline: process → train → evaluate → condition → register.

``runner`` runs it on one machine, one process per step, with SageMaker's container paths
mapped into ``RECS_HOME/runs/<run_id>/``; ``sagemaker`` builds the same steps as a SageMaker
Pipeline for packages/infra; ``schedule`` mirrors the weekly EventBridge schedule as cron.
"""

STEPS = ("process", "train", "evaluate", "condition", "register")
STEP_MODULES = {
    "process": "recs_ml.pipeline.steps.process",
    "train": "recs_ml.pipeline.steps.train",
    "evaluate": "recs_ml.pipeline.steps.evaluate",
}
DEFAULT_BASELINE = "mostpop"
DEFAULT_METRIC = "ndcg@10"
# evaluation.json repeats its metrics under this key with plain names (ndcg@10 -> ndcg_at_10),
# so the SageMaker condition reads them with a dotted JsonPath: no brackets, no '@'.
PLAIN_METRICS = "plain_metrics"


def plain_metric_name(metric: str) -> str:
    """``ndcg@10`` → ``ndcg_at_10``: a name a dotted JsonPath segment can hold."""
    return metric.replace("@", "_at_").replace("-", "_").replace(".", "_")


def plain_metrics(metrics: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """``{model: {plain metric name: value}}`` for every model and metric."""
    return {
        model: {plain_metric_name(name): value for name, value in values.items()}
        for model, values in metrics.items()
    }
