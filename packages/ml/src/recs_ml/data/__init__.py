"""Ratings in: dataset loaders, synthetic data, the split (columnar and Spark), shards for
streaming, and the API's ratings store."""
