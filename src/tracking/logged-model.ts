import type { ModelRecord } from './journal-records.js';
import { PYFUNC_LOADER_MODULE, PYFUNC_LOADER_SOURCE, PYFUNC_REQUIREMENTS } from './pyfunc-loader.js';

/** What a train node's `model/` folder says about the model, as the tracker read it. */
export interface ModelFacts {
  /** The model folder. */
  root: string;
  /** Its files, relative to `root` (`model.json`, `weights.bin`, `classes.json`). */
  files: string[];
  classes: string[];
  /** [height, width, channels] of the images it takes. */
  shape: [number, number, number];
  /** The model family (`train.model`). */
  family: string;
  /** tfjs-layers version that saved it (from `model.json`'s `generatedBy`), if given. */
  tfjsVersion: string | undefined;
  /** How the family scales 0..255 pixels (`unit`: /255), when the caller knows it; needed by the Python loader. */
  preprocess: string | undefined;
}

/** Where a model goes: its run, its journal key, the node that trained it, its name and the step it was saved at. */
export interface ModelPlacement {
  runId: string;
  key: string;
  node: string;
  name: string;
  step: number;
  params: Record<string, string>;
  tags: Record<string, string>;
}

/** The Python version the `python_function` flavour was checked with. */
const PYTHON_VERSION = '3.11';

/**
 * A trained model as an MLflow LoggedModel: its folder's files unchanged, and an `MLmodel` with a `tfjs` flavour
 * (the files, the family, the pixel preprocessing, the classes) and the signature (uint8 RGB images in, one
 * probability per class out — one in all for two classes, as the sigmoid models give). When the preprocessing is
 * known it also gets a `python_function` flavour: `mlflow.pyfunc.load_model` loads it with TensorFlow (see
 * pyfunc-loader.ts).
 */
export function loggedModelRecord(facts: ModelFacts, placement: ModelPlacement): ModelRecord {
  const outputs = facts.classes.length === 2 ? 1 : facts.classes.length;
  const tfjs = {
    format: 'layers-model',
    model_json: 'model.json',
    weights: facts.files.filter((file) => file.endsWith('.bin')),
    classes_json: 'classes.json',
    family: facts.family,
    classes: facts.classes,
    input_shape: facts.shape,
    ...(facts.preprocess ? { preprocess: facts.preprocess } : {}),
    ...(facts.tfjsVersion ? { tfjs_version: facts.tfjsVersion } : {}),
  };
  const pyfunc = facts.preprocess ? pythonFlavour() : undefined;
  return {
    t: 'model',
    id: placement.runId,
    key: placement.key,
    node: placement.node,
    name: placement.name,
    type: 'tfjs',
    step: placement.step,
    root: facts.root,
    files: facts.files,
    inline: pyfunc ? pythonFiles() : {},
    mlmodel: {
      flavors: { tfjs, ...(pyfunc ? { python_function: pyfunc } : {}) },
      signature: {
        inputs: tensorSpec('uint8', [-1, ...facts.shape]),
        outputs: tensorSpec('float32', [-1, outputs]),
        params: null,
      },
    },
    params: placement.params,
    tags: placement.tags,
  };
}

function tensorSpec(dtype: string, shape: number[]): string {
  return JSON.stringify([{ type: 'tensor', 'tensor-spec': { dtype, shape } }]);
}

function pythonFlavour() {
  return {
    loader_module: PYFUNC_LOADER_MODULE,
    code: 'code',
    env: { virtualenv: 'python_env.yaml', conda: 'conda.yaml' },
    python_version: PYTHON_VERSION,
  };
}

function pythonFiles(): Record<string, string> {
  const pip = PYFUNC_REQUIREMENTS.map((line) => `    - "${line}"`).join('\n');
  return {
    [`code/${PYFUNC_LOADER_MODULE}.py`]: PYFUNC_LOADER_SOURCE,
    'requirements.txt': `${PYFUNC_REQUIREMENTS.join('\n')}\n`,
    'python_env.yaml': `python: "${PYTHON_VERSION}"\nbuild_dependencies:\n  - pip\ndependencies:\n  - -r requirements.txt\n`,
    'conda.yaml': `name: pipeline-tfjs\nchannels:\n  - conda-forge\ndependencies:\n  - python=${PYTHON_VERSION}\n  - pip\n  - pip:\n${pip}\n`,
  };
}
