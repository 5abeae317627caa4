"""The training pipeline: process → train → evaluate → condition → register.

``runner`` runs it on one machine, one process per step, with SageMaker's container paths
mapped into ``RECS_HOME/runs/<run_id>/``; ``sagemaker`` builds the same steps as a SageMaker
Pipeline for packages/infra; ``schedule`` mirrors the weekly EventBridge schedule as cron.
"""

STEPS = ("process", "train", "evaluate", "condition", "register")
STEP_MODULES = {
    "process": "recs_ml.steps.process",
    "train": "recs_ml.steps.train",
    "evaluate": "recs_ml.steps.evaluate",
}
DEFAULT_BASELINE = "mostpop"
DEFAULT_METRIC = "ndcg@10"
