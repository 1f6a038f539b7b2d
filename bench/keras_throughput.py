"""Keras counterpart of bench/tfjs-train-worker.ts: same CNN, same pixels, same timing rule.

Run by bench/train-throughput.ts with the venv's python; writes one JSON object (the ThroughputResult shape of
bench/lib/result.ts) to --out. Exit code 3 with status "skipped" when TensorFlow cannot be imported.

    .venv-bench/bin/python bench/keras_throughput.py --images F.npy --labels F.npy --count N --out F.json
"""

import argparse
import json
import os
import platform
import sys
import time


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", required=True, help="uint8 NHWC .npy written by train-throughput.ts")
    parser.add_argument("--labels", required=True, help="uint8 .npy of 0/1 labels")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--filters", default="32,64,128")
    parser.add_argument("--dense-units", type=int, default=128)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--model", choices=["basic-cnn", "resnet50v2"], default="basic-cnn")
    return parser.parse_args()


# /proc/stat counts in USER_HZ ticks, which is 100 on every Linux ABI.
TICKS_PER_SECOND = 100


def cpu_snapshot() -> dict:
    """This process's CPU time (all threads) and the machine's busy/steal time; see bench/lib/cpu-usage.ts."""
    snapshot = {"own": time.process_time()}
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
    except OSError:
        return snapshot
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    snapshot["busy"] = (user + nice + system + irq + softirq) / TICKS_PER_SECOND
    snapshot["steal"] = steal / TICKS_PER_SECOND
    return snapshot


def cpu_use(start: dict, end: dict) -> dict:
    own = end["own"] - start["own"]
    has_proc = "busy" in start and "busy" in end
    return {
        "ownSeconds": own,
        "otherSeconds": max(0.0, end["busy"] - start["busy"] - own) if has_proc else None,
        "stealSeconds": end["steal"] - start["steal"] if has_proc else None,
    }


def write(out: str, result: dict) -> None:
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)


def load_data(np, args: argparse.Namespace):
    images = np.load(args.images)[: args.count]
    labels = np.load(args.labels)[: args.count]
    # tfjs's imagesArray divides in float64 and stores float32; doing the same keeps the inputs bit-identical.
    x = (images.astype(np.float64) / 255).astype(np.float32)
    y = labels.astype(np.float32).reshape(-1, 1)
    return x, y


def build_resnet50v2(tf, input_shape, args: argparse.Namespace):
    """src/ml/models/resnet-v2.ts in Keras: ResNet50V2 from fresh initializers (no download) + the transfer head."""
    layers = tf.keras.layers
    base = tf.keras.applications.ResNet50V2(weights=None, include_top=False, input_shape=input_shape)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(base.output)
    x = layers.Dropout(args.dropout, name="head_dropout")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="predictions")(x)
    model = tf.keras.Model(base.input, outputs)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate=args.lr), loss="binary_crossentropy", metrics=["accuracy"]
    )
    return model


def build_model(tf, input_shape, args: argparse.Namespace):
    """src/ml/models/basic-cnn.ts in Keras: conv3x3 'same' + ReLU + maxpool2 per block, flatten, dense, dropout, sigmoid."""
    layers = tf.keras.layers
    model = tf.keras.Sequential([layers.Input(shape=input_shape)])
    for index, filters in enumerate(int(f) for f in args.filters.split(",")):
        model.add(layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{index + 1}"))
        model.add(layers.MaxPooling2D(2, name=f"pool{index + 1}"))
    model.add(layers.Flatten())
    model.add(layers.Dense(args.dense_units, activation="relu", name="dense"))
    model.add(layers.Dropout(args.dropout))
    model.add(layers.Dense(1, activation="sigmoid", name="output"))
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate=args.lr),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


def timed_fit(tf, model, x, y, args: argparse.Namespace):
    """fit() with the end of the first batch marked, so warm-up (tf.function tracing) is reported apart."""
    marks = {}

    class FirstBatch(tf.keras.callbacks.Callback):
        # A plain Callback gets numpy logs, so Keras has synced on the batch's loss before this runs.
        def on_train_batch_end(self, batch, logs=None):
            if "first_batch_end" not in marks:
                marks["first_batch_end"] = time.perf_counter()
                marks["cpu_at_first_batch"] = cpu_snapshot()

    start = time.perf_counter()
    history = model.fit(
        x, y, batch_size=args.batch_size, epochs=args.epochs, shuffle=True, verbose=0, callbacks=[FirstBatch()]
    )
    end = time.perf_counter()
    cpu = cpu_use(marks["cpu_at_first_batch"], cpu_snapshot())
    return start, marks["first_batch_end"], end, cpu, history.history["loss"][-1]


def thread_settings(tf) -> str:
    # 0 means "not set from Python": TF then uses TF_NUM_*_THREADS or one thread per core, like libtensorflow in tfjs-node.
    intra = tf.config.threading.get_intra_op_parallelism_threads()
    inter = tf.config.threading.get_inter_op_parallelism_threads()
    env_intra = os.environ.get("TF_NUM_INTRAOP_THREADS", "default")
    env_inter = os.environ.get("TF_NUM_INTEROP_THREADS", "default")
    return f"intra_op={intra or env_intra}, inter_op={inter or env_inter}"


def main() -> int:
    args = parse_args()
    try:
        import numpy as np
        import tensorflow as tf
    except ImportError as error:
        write(args.out, {"status": "skipped", "backend": "keras", "reason": f"cannot import: {error}"})
        return 3

    tf.keras.utils.set_random_seed(42)
    x, y = load_data(np, args)
    build = build_resnet50v2 if args.model == "resnet50v2" else build_model
    model = build(tf, x.shape[1:], args)
    start, first_batch_end, end, cpu, final_loss = timed_fit(tf, model, x, y, args)
    count = len(x)
    timed_images = count * args.epochs - min(args.batch_size, count)
    seconds = end - first_batch_end
    write(
        args.out,
        {
            "status": "ok",
            "backend": "keras",
            "images": count,
            "epochs": args.epochs,
            "batchSize": args.batch_size,
            "warmupSeconds": first_batch_end - start,
            "timedImages": timed_images,
            "seconds": seconds,
            "imagesPerSecond": timed_images / seconds,
            "cpu": cpu,
            "finalLoss": float(final_loss),
            "versions": {
                "python": platform.python_version(),
                "tensorflow": tf.__version__,
                "keras": tf.keras.__version__,
                "numpy": np.__version__,
                "oneDNN": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on for x86 Linux since TF 2.9)"),
            },
            "threads": thread_settings(tf),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
