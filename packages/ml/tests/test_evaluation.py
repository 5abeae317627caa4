"""Metrics checked against values computed by hand."""

import json
import math

import pytest

from recs_ml.models.evaluation import markdown_table, ranking_metrics, write_report


def test_single_user_by_hand():
    # Hits at ranks 2 and 4 (1-based) out of 3 relevant items.
    metrics = ranking_metrics({1: [10, 20, 30, 40]}, {1: {20, 40, 99}}, catalog_size=8, k=4)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert metrics["ndcg@4"] == pytest.approx(dcg / idcg)
    assert metrics["recall@4"] == pytest.approx(2 / 3)
    assert metrics["hitrate@4"] == 1.0
    assert metrics["mrr@4"] == pytest.approx(1 / 2)
    assert metrics["coverage"] == pytest.approx(4 / 8)


def test_recall_denominator_is_min_of_k_and_relevant():
    relevant = {1: set(range(100, 120))}  # 20 relevant, k = 10
    metrics = ranking_metrics({1: list(range(100, 110))}, relevant, catalog_size=200, k=10)
    assert metrics["recall@10"] == 1.0
    assert metrics["ndcg@10"] == pytest.approx(1.0)


def test_averages_over_users_and_unions_coverage():
    recommended = {1: [1, 2], 2: [2, 3], 3: [4, 5]}
    relevant = {1: {1}, 2: {3}, 3: {9}}
    metrics = ranking_metrics(recommended, relevant, catalog_size=10, k=2)
    # user 1: hit at rank 1; user 2: hit at rank 2; user 3: none.
    assert metrics["hitrate@2"] == pytest.approx(2 / 3)
    assert metrics["mrr@2"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert metrics["ndcg@2"] == pytest.approx((1 + 1 / math.log2(3) + 0) / 3)
    assert metrics["recall@2"] == pytest.approx(2 / 3)
    assert metrics["coverage"] == pytest.approx(5 / 10)


def test_only_first_k_count():
    metrics = ranking_metrics({1: [5, 6, 7]}, {1: {7}}, catalog_size=10, k=2)
    assert metrics["hitrate@2"] == 0.0 and metrics["ndcg@2"] == 0.0
    assert metrics["coverage"] == pytest.approx(2 / 10)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="no recommendations"):
        ranking_metrics({}, {1: {1}}, catalog_size=5)
    with pytest.raises(ValueError, match="no user has a relevant item"):
        ranking_metrics({1: [1]}, {}, catalog_size=5)
    with pytest.raises(ValueError, match="k must be"):
        ranking_metrics({1: [1]}, {1: {1}}, catalog_size=5, k=0)


def test_report_files(tmp_path):
    metrics = {"tfrs": {"ndcg@10": 0.2, "recall@10": 0.1, "hitrate@10": 0.5, "mrr@10": 0.3,
                        "coverage": 0.4}}  # fmt: skip
    write_report(tmp_path, metrics, "tfrs", users=3)
    report = json.loads((tmp_path / "evaluation.json").read_text())
    plain = {"tfrs": {"ndcg_at_10": 0.2, "recall_at_10": 0.1, "hitrate_at_10": 0.5,
                      "mrr_at_10": 0.3, "coverage": 0.4}}  # fmt: skip
    assert report == {
        "default_model": "tfrs",
        "metrics": metrics,
        "plain_metrics": plain,
        "split": "test",
        "users": 3,
    }
    assert "| tfrs | 0.2000 | 0.1000 | 0.5000 | 0.3000 | 0.4000 |" in markdown_table(metrics)
    assert "| tfrs |" in (tmp_path / "evaluation.md").read_text()
