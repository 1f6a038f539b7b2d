import * as tf from '@tensorflow/tfjs';

/** What this module needs of tfjs-node's backend: its raw-op call and the binding's type constants. */
interface NativeBackend {
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number };
  executeSingleOutput(op: string, attrs: unknown[], inputs: tf.TensorInfo[]): tf.Tensor;
}

/**
 * Replaces tfjs' ReLU gradient with TensorFlow's fused `ReluGrad` op while the native backend is active.
 *
 * tfjs computes the gradient as `dy * cast(step(x))`, and tfjs-node builds `Step` from five full-size ops (IsNan,
 * Greater, Fill and two Select): about a fifth of a training step of the report's CNN (BENCHMARKS.md). `ReluGrad` is one
 * kernel over the same tensors with the same result (`dy` where `x > 0`, else 0). Conv and dense layers reach this
 * gradient too: tfjs unfuses their bias + ReLU while it records gradients. On any other backend or dtype the
 * gradient is tfjs' own. Registering again is harmless.
 */
export function registerNativeGradients(): void {
  tf.registerGradient({
    kernelName: tf.Relu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      if (!x) throw new Error('Relu gradient: the input was not saved');
      const grad = Array.isArray(dy) ? dy[0] : dy;
      if (!grad) throw new Error('Relu gradient: no upstream gradient');
      return { x: () => reluGrad(grad, x) };
    },
  });
}

/** The ReLU gradient: TF's `ReluGrad` on the native backend for float32, tfjs' `dy * step(x)` otherwise. */
export function reluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (tf.getBackend() === 'tensorflow' && dy.dtype === 'float32' && x.dtype === 'float32') {
    const backend = tf.backend() as unknown as NativeBackend;
    const dtype = { name: 'T', type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT };
    return backend.executeSingleOutput('ReluGrad', [dtype], [dy, x]);
  }
  return tf.mul(dy, tf.cast(tf.step(x), 'float32'));
}
