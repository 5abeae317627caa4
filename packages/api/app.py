"""Routes only: translate HTTP to calls into chalicelib."""

from chalice import Chalice

from chalicelib.health import health_status

app = Chalice(app_name="recs-api")


@app.route("/health", methods=["GET"])
def health() -> dict:
    return health_status()
