#!/usr/bin/env python3
"""CDK app: synthesizes the stacks into cdk.out (no AWS credentials needed).

Run through the CLI (`npx aws-cdk@2 synth -c stage=prod`), which passes cdk.json's context, or
directly (`python app.py`), which reads cdk.json itself.
"""

import json
import os
from pathlib import Path

from recs_infra.stacks import build_app

here = Path(__file__).parent
context = None
if "CDK_CONTEXT_JSON" not in os.environ:
    context = json.loads((here / "cdk.json").read_text())["context"]
# The CLI names the output directory; run alone, write where the CLI would.
outdir = None if "CDK_OUTDIR" in os.environ else str(here / "cdk.out")

build_app(context, outdir=outdir).synth()
