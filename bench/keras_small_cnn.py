"""Keras 3 (TensorFlow backend, CPU) training throughput of deepimage's ``small-cnn``, the
peer figure bench/classify.py puts beside deepimage's. Run by bench/classify.py in a process
of its own, so TensorFlow's thread pools never share one with torch's.

    python bench/keras_small_cnn.py IMAGES.npy LABELS.npy --epochs 1 --threads 2 [--policy P]

Prints one JSON line: ``{"keras_images_per_s": ..., "tensorflow": version, ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import tensorflow as tf

BATCH = 64
WARMUP = 20  # batches left out of the timing, as in the other two figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("images", help="N x 28 x 28 uint8 .npy")
    parser.add_argument("labels", help="N int64 .npy")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--policy", default="float32", help="Keras dtype policy, e.g. mixed_bfloat16."
    )
    args = parser.parse_args()
    keras.mixed_precision.set_dtype_policy(args.policy)

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(0)
    x = (np.load(args.images).astype("float32") / 255 - 0.2860) / 0.3530
    y = np.load(args.labels)
    model = keras.Sequential(  # small-cnn: conv 32 3x3, pool, conv 64 3x3, pool, dense 64, 10
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, dtype="float32"),  # float32 logits under any policy
        ]
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(1e-3, weight_decay=5e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    meter = Meter(len(y))
    model.fit(x[..., None], y, batch_size=BATCH, epochs=args.epochs, verbose=0, callbacks=[meter])
    print(
        json.dumps(
            {
                "keras_images_per_s": round(meter.images / meter.seconds, 1),
                "precision": args.policy,
                "keras": keras.__version__,
                "tensorflow": tf.__version__,
                "train_accuracy": round(float(meter.accuracy), 4),
            }
        )
    )


class Meter(keras.callbacks.Callback):
    """Times each epoch from its WARMUP-th batch to its end."""

    def __init__(self, per_epoch: int) -> None:
        super().__init__()
        self.timed_per_epoch = per_epoch - WARMUP * BATCH
        self.images, self.seconds, self.accuracy = 0, 0.0, 0.0
        self._start = 0.0

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if batch == WARMUP:
            self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds += time.perf_counter() - self._start
        self.images += self.timed_per_epoch
        self.accuracy = (logs or {}).get("accuracy", 0.0)


if __name__ == "__main__":
    main()
