"""spark-submit's application for the SageMaker Spark Process step (recs_ml on --py-files).

Uploaded with ``recs_ml.zip`` to ``s3://<bucket>/pipeline/code/spark/``; the step passes the
process step's own arguments (``--engine spark --data s3://... --output s3://...``).
"""

import sys

from recs_ml.pipeline.steps.process import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
