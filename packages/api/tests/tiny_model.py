"""Register and approve a tiny artifact with the exact serving signature in RECS_HOME's registry.

``python tiny_model.py ARTIFACT_DIR N_ITEMS``: SavedModels over items 1..N where ``tfrs``
prefers high ids and ``ease`` low ids, both skipping history and exclusions — answers that are
checkable by hand. Run in a subprocess so TensorFlow stays out of the test process.
"""

import sys
from pathlib import Path

import tensorflow as tf

from recs_ml.ops.registry import Registry
from recs_ml.serving.artifact import Manifest, write_manifest


class Tiny(tf.Module):
    def __init__(self, n_items: int, direction: float) -> None:
        super().__init__()
        self.items = tf.range(1, n_items + 1, dtype=tf.int64)
        self.direction = tf.constant(direction, tf.float32)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None], tf.int64, name="user_id"),
            tf.TensorSpec([None, None], tf.int64, name="history"),
            tf.TensorSpec([None, None], tf.int64, name="exclude"),
            tf.TensorSpec([None], tf.int32, name="k"),
        ]
    )
    def serve(self, user_id, history, exclude, k):
        batch = tf.shape(user_id)[0]
        scores = tf.tile(tf.cast(self.items, tf.float32)[None, :] * self.direction, [batch, 1])
        banned = tf.concat([history, exclude], axis=1)
        hit = tf.reduce_any(tf.equal(banned[:, :, None], self.items[None, None, :]), axis=1)
        scores = tf.where(hit, tf.fill(tf.shape(scores), -1e9), scores)
        top = tf.math.top_k(scores, k=tf.minimum(tf.reduce_max(k), tf.size(self.items)))
        return {"item_ids": tf.gather(self.items, top.indices), "scores": top.values}


def main() -> None:
    root, n_items = Path(sys.argv[1]), int(sys.argv[2])
    for name, direction in (("tfrs", 1.0), ("ease", -1.0)):
        module = Tiny(n_items, direction)
        tf.saved_model.save(
            module, str(root / name / "1"), signatures={"serving_default": module.serve}
        )
    write_manifest(
        root,
        Manifest(
            model_name="recs-movielens",
            default_model="tfrs",
            models=["tfrs", "ease"],
            data_checksum="tiny",
            hyperparameters={},
            metrics={"tfrs": {"ndcg@10": 0.21}, "ease": {"ndcg@10": 0.19}},
        ),
    )
    registry = Registry()
    package = registry.register(root)
    registry.approve(package.version)
    print(package.version)


if __name__ == "__main__":
    main()
