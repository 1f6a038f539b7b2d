import { describe, expect, it } from 'vitest';
import { stageThreadEnv } from '../../../src/workers/stage-threads.js';

describe('stageThreadEnv', () => {
  it('splits the cores between the stage processes that run at once, one inter-op thread each', () => {
    expect(stageThreadEnv(2, {}, 2)).toEqual({ TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' });
    expect(stageThreadEnv(3, {}, 8)).toEqual({ TF_NUM_INTRAOP_THREADS: '2', TF_NUM_INTEROP_THREADS: '1' });
    expect(stageThreadEnv(1, {}, 4)).toEqual({ TF_NUM_INTRAOP_THREADS: '4', TF_NUM_INTEROP_THREADS: '1' });
    // More processes than cores still get a thread each.
    expect(stageThreadEnv(4, {}, 2)).toEqual({ TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' });
  });

  it("leaves TensorFlow's settings alone when the user set them or turned the budget off", () => {
    expect(stageThreadEnv(2, { TF_NUM_INTRAOP_THREADS: '4' }, 2)).toEqual({});
    expect(stageThreadEnv(2, { TF_NUM_INTEROP_THREADS: '2' }, 2)).toEqual({});
    expect(stageThreadEnv(2, { PIPELINE_THREAD_BUDGET: '0' }, 2)).toEqual({});
  });
});
