import * as tf from '@tensorflow/tfjs';

/** The first channels of one layer's output for one image. */
export interface FeatureMaps {
  layer: string;
  width: number;
  height: number;
  /** One row-major plane per channel, raw activations. */
  channels: Float32Array[];
}

function isSpatial(layer: tf.layers.Layer): boolean {
  const output = layer.output;
  return !Array.isArray(output) && output.shape.length === 4;
}

/**
 * The layers that end a conv+pool block (the report's Figure 10 shows the maps after each): every pooling layer with
 * a spatial output. Families that downsample by strided convolutions and have few pools (ResNet V2, MobileNetV2)
 * get, in addition, the last convolution at each spatial size, so each resolution is shown once.
 */
export function featureMapLayers(model: tf.LayersModel): tf.layers.Layer[] {
  const spatial = model.layers.filter(isSpatial);
  const pools = spatial.filter((layer) => /Pooling2D$/.test(layer.getClassName()));
  const sizeOf = (layer: tf.layers.Layer) => (layer.output as tf.SymbolicTensor).shape.slice(1, 3).join('x');
  // A size a pool reads or writes is shown by that pool's output: the conv feeding a pool is mid-block.
  const poolInputs = pools.flatMap((layer) => {
    const input = layer.input;
    return Array.isArray(input) ? [] : [input.shape.slice(1, 3).join('x')];
  });
  const covered = new Set([...pools.map(sizeOf), ...poolInputs]);
  const lastConvBySize = new Map<string, tf.layers.Layer>();
  for (const layer of spatial) {
    if (/Conv/.test(layer.getClassName()) && !covered.has(sizeOf(layer))) lastConvBySize.set(sizeOf(layer), layer);
  }
  const chosen = new Set([...pools, ...lastConvBySize.values()]);
  return spatial.filter((layer) => chosen.has(layer));
}

/** The first `count` channels of each of `layers` for one preprocessed image [1, h, w, c], in one forward pass. */
export function readFeatureMaps(
  model: tf.LayersModel,
  input: tf.Tensor4D,
  layers: readonly tf.layers.Layer[],
  count = 16,
): FeatureMaps[] {
  if (layers.length === 0) return [];
  const probe = tf.model({ inputs: model.inputs, outputs: layers.map((layer) => layer.output as tf.SymbolicTensor) });
  const outputs = tf.tidy(() => {
    const result = probe.predict(input);
    return Array.isArray(result) ? result : [result];
  });
  const maps = outputs.map((output, index) => {
    const [, height = 0, width = 0, depth = 0] = output.shape;
    const data = output.dataSync() as Float32Array;
    const channels = Array.from({ length: Math.min(count, depth) }, (_, c) => {
      const plane = new Float32Array(height * width);
      for (let p = 0; p < plane.length; p++) plane[p] = data[p * depth + c] ?? 0;
      return plane;
    });
    return { layer: layers[index]?.name ?? '', width, height, channels };
  });
  tf.dispose(outputs);
  return maps;
}
