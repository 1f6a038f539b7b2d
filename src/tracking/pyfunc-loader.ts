/** The module name MLflow's `python_function` flavour imports (from the model's `code/` folder). */
export const PYFUNC_LOADER_MODULE = 'pipeline_tfjs_loader';

/** Python packages the loader needs besides MLflow: TensorFlow with Keras 2 (`tf_keras` from TF 2.16 on). */
export const PYFUNC_REQUIREMENTS = ['mlflow', 'numpy', 'tensorflow-cpu>=2.12', "tf-keras; python_version>='3.9'"];

/**
 * The loader MLflow runs for `mlflow.pyfunc.load_model`: it rebuilds the Keras model from the tfjs topology
 * (tfjs-layers writes Keras' JSON format), sets the weights by name from the tfjs manifest, and applies the model
 * family's pixel preprocessing named in the MLmodel's `tfjs` flavour. Input: uint8 RGB images [n, h, w, 3];
 * output: the model's probabilities, as `pipeline predict` computes them.
 */
export const PYFUNC_LOADER_SOURCE = `"""MLflow python_function loader for pipeline's tfjs layers models (model.json + weights.bin).

Rebuilds the Keras model from the tfjs topology and sets its weights by name from the tfjs weights manifest.
Needs TensorFlow with Keras 2: tensorflow<2.16, or tensorflow>=2.16 with tf-keras.
"""
import json
import os

import numpy as np

_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}


def _keras():
    try:
        import tf_keras as keras
    except ImportError:
        from tensorflow import keras
    return keras


def _load_pyfunc(path):
    return _TfjsModel(path)


def _preprocess(name, images):
    pixels = np.asarray(images, dtype=np.float32)
    if name == "unit":
        return pixels / 255.0
    raise ValueError(f"unknown pixel preprocessing '{name}' in the MLmodel's tfjs flavour")


def _flavour(path):
    import yaml

    with open(os.path.join(path, "MLmodel"), encoding="utf-8") as f:
        return yaml.safe_load(f)["flavors"]["tfjs"]


def _read_weights(path, manifest):
    for group in manifest:
        data = b"".join(open(os.path.join(path, name), "rb").read() for name in group["paths"])
        offset = 0
        for entry in group["weights"]:
            dtype = np.dtype(_DTYPES[entry["dtype"]])
            count = int(np.prod(entry["shape"])) if entry["shape"] else 1
            yield entry["name"], np.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(entry["shape"])
            offset += count * dtype.itemsize


class _TfjsModel:
    def __init__(self, path):
        flavour = _flavour(path)
        with open(os.path.join(path, flavour["model_json"]), encoding="utf-8") as f:
            spec = json.load(f)
        topology = spec["modelTopology"]
        self.model = _keras().models.model_from_json(json.dumps(topology.get("model_config", topology)))
        by_name = {w.name.split(":")[0]: w for w in self.model.weights}
        for name, array in _read_weights(path, spec["weightsManifest"]):
            if name not in by_name:
                raise ValueError(f"weight {name} of {flavour['model_json']} is not in the rebuilt Keras model")
            by_name[name].assign(array)
        self.preprocess = flavour["preprocess"]

    def predict(self, model_input, params=None):
        return self.model.predict(_preprocess(self.preprocess, model_input), verbose=0)
`;
