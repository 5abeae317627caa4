"""TFRS models (the two-tower sequence retrieval model and the relevance ranking model), the
baselines, training (one worker or several) and evaluation."""
