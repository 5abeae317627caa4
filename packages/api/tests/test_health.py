import json

from chalice.test import Client

from app import app


def test_health_reports_ok():
    with Client(app) as client:
        response = client.http.get("/health")
    assert response.status_code == 200
    assert json.loads(response.body)["status"] == "ok"
