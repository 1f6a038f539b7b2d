"""The Keras script a user would write instead of `pipeline run experiments/sweeps/lr-optimizer.yaml`.

Loads a folder-per-class image tree, holds out 20 % for validation, and trains the CNN report's model once per grid
point (lr x optimizer x batch size) with ImageDataGenerator's augmentation and model.fit, one trial after another.
Writes one JSON line per trial to stdout and, with --out, a summary file. bench/sweep-vs-keras.ts runs it.

    .venv-keras/bin/python bench/keras_sweep.py --data-dir data/face-mask [--image-size 64] [--epochs 5] [--out F]
"""

import argparse
import itertools
import json
import os
import time

import numpy as np
import tensorflow as tf
from sklearn.model_selection import train_test_split
from tensorflow.keras import layers, models, optimizers
from tensorflow.keras.preprocessing.image import ImageDataGenerator

GRID = {"lr": [0.01, 0.001, 0.0001], "optimizer": ["rmsprop", "adam"], "batch_size": [64, 32]}


def load_images(data_dir, size):
    """Every image of every class folder, resized to size x size RGB in [0, 1]; labels in folder order."""
    classes = sorted(d for d in os.listdir(data_dir) if os.path.isdir(os.path.join(data_dir, d)))
    images, labels = [], []
    for label, name in enumerate(classes):
        folder = os.path.join(data_dir, name)
        for file in sorted(os.listdir(folder)):
            try:
                raw = tf.io.read_file(os.path.join(folder, file))
                image = tf.io.decode_image(raw, channels=3, expand_animations=False)
            except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError):
                continue  # not an image
            images.append(tf.image.resize(image, (size, size)).numpy() / 255.0)
            labels.append(label)
    return np.array(images, dtype="float32"), np.array(labels, dtype="float32"), classes


def build_model(size, filters, dense_units, dropout):
    """The report's CNN: conv 3x3 + ReLU + max-pool blocks, dense, dropout, sigmoid."""
    model = models.Sequential([layers.Input((size, size, 3))])
    for f in filters:
        model.add(layers.Conv2D(f, 3, padding="same", activation="relu"))
        model.add(layers.MaxPooling2D(2))
    model.add(layers.Flatten())
    model.add(layers.Dense(dense_units, activation="relu"))
    model.add(layers.Dropout(dropout))
    model.add(layers.Dense(1, activation="sigmoid"))
    return model


def make_optimizer(name, lr):
    return {"adam": optimizers.Adam, "rmsprop": optimizers.RMSprop, "sgd": optimizers.SGD}[name](learning_rate=lr)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--filters", default="32,64,128")
    parser.add_argument("--dense-units", type=int, default=128)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--out")
    args = parser.parse_args()
    started = time.time()
    x, y, classes = load_images(args.data_dir, args.image_size)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.2, stratify=y, random_state=42)
    # The report's augmentation (pipelines/face-mask.yaml: train.augment).
    datagen = ImageDataGenerator(
        rotation_range=20,
        width_shift_range=0.1,
        height_shift_range=0.1,
        shear_range=10,
        zoom_range=0.1,
        horizontal_flip=True,
    )
    trials = []
    for lr, optimizer, batch_size in itertools.product(GRID["lr"], GRID["optimizer"], GRID["batch_size"]):
        tf.keras.backend.clear_session()
        model = build_model(args.image_size, [int(f) for f in args.filters.split(",")], args.dense_units, args.dropout)
        model.compile(optimizer=make_optimizer(optimizer, lr), loss="binary_crossentropy", metrics=["accuracy"])
        history = model.fit(
            datagen.flow(x_train, y_train, batch_size=batch_size, seed=42),
            epochs=args.epochs,
            validation_data=(x_val, y_val),
            verbose=0,
        )
        val = history.history["val_accuracy"]
        trial = {"lr": lr, "optimizer": optimizer, "batchSize": batch_size, "val_accuracy": val[-1], "best": max(val)}
        trials.append(trial)
        print(json.dumps(trial), flush=True)
    summary = {
        "images": {"train": len(y_train), "val": len(y_val)},
        "classes": classes,
        "seconds": time.time() - started,
        "trials": trials,
        "tensorflow": tf.__version__,
    }
    if args.out:
        with open(args.out, "w") as file:
            json.dump(summary, file, indent=1)


if __name__ == "__main__":
    main()
