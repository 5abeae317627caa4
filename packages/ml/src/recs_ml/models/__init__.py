"""TFRS models: the two-tower sequence retrieval model and the relevance ranking model."""
