import type * as tf from '@tensorflow/tfjs';
import type { ModelConfig, ModelName } from './model-catalog.js';
import type { ModelInput } from './model-input.js';

/** Builds a family's model, uncompiled, for one input shape and class count. */
export type ModelBuilder<C> = (config: C, input: ModelInput) => tf.LayersModel;

/** Builders by family, loaded on demand so the planner and the data stages never load one. */
const MODELS: { [N in ModelName]: () => Promise<ModelBuilder<ModelConfig<N>>> } = {
  'basic-cnn': async () => (await import('./basic-cnn.js')).buildBasicCnn,
  resnet50v2: async () => (await import('./resnet-v2.js')).buildResnet50v2,
  mobilenetv2: async () => (await import('./mobilenet-v2.js')).buildMobilenetV2,
};

/** Builds the model of family `name` from its config (extra keys, such as the training-loop params, are ignored). */
export async function buildModel<N extends ModelName>(
  name: N,
  config: ModelConfig<N>,
  input: ModelInput,
): Promise<tf.LayersModel> {
  const load: () => Promise<ModelBuilder<ModelConfig<N>>> = MODELS[name];
  return (await load())(config, input);
}
