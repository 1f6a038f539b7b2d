import { WorkspaceStore } from '../../src/store/workspace-store.js';
import { createSweepTracker } from '../../src/tracking/sweep-tracker.js';
import type { Plan } from '../../src/types.js';
import { playSweep, trialRow, type PlayOptions } from './plan-builder.js';
import { tempDir, writeFiles } from './temp-project.js';

/** A split part as split writes it: the header (classes, shape, labels) and the pixels. */
export function splitPart(labels: number[]): Record<string, string> {
  return {
    json: JSON.stringify({ format: 'pipeline-dataset/1', classes: ['a', 'b'], shape: [2, 2, 3], labels, files: [] }),
    bin: 'x'.repeat(12 * labels.length),
  };
}

/**
 * A workspace holding every node's output folder: a report and a data set; train's history and its model folder
 * (tfjs files + classes.json); split's train and val parts.
 */
export function nodeFolders(plan: Plan): WorkspaceStore {
  const store = new WorkspaceStore(tempDir());
  const [train, val] = [splitPart([0, 0, 1]), splitPart([0, 1])];
  for (const node of plan.nodes) {
    writeFiles(store.nodeDir(node.cacheKey), {
      'result.json': '{}',
      'report.txt': node.id,
      'dataset.bin': 'x',
      'dataset.json': '{}',
      ...(node.kind === 'train'
        ? {
            'history.json': '[{"epoch":1,"loss":1},{"epoch":2,"loss":0.5}]',
            'model/model.json': '{"generatedBy":"TensorFlow.js tfjs-layers v4.22.0"}',
            'model/weights.bin': 'w',
            'model/classes.json': '{"classes":["a","b"],"shape":[2,2,3],"model":"basic-cnn"}',
          }
        : {}),
      ...(node.kind === 'split'
        ? { 'train.json': train.json, 'train.bin': train.bin, 'val.json': val.json, 'val.bin': val.bin }
        : {}),
    });
  }
  return store;
}

/**
 * Runs a sweep through a tracker into the workspace's journal, as `pipeline run` does (sweep `s`, experiment `exp`,
 * the first trial best); returns how often the tracker said it journaled.
 */
export function trackSweep(store: WorkspaceStore, plan: Plan, play: PlayOptions = {}): number {
  let journaled = 0;
  const tracker = createSweepTracker({
    plan,
    store,
    sweepName: 's',
    experiment: 'exp',
    systemTags: { 'mlflow.user': 'ann' },
    parentTags: {},
    sweepFacts: {},
    host: 'box',
    preprocessOf: (family) => (family === 'basic-cnn' ? 'unit' : undefined),
    onJournaled: () => journaled++,
  });
  playSweep(tracker, plan, play);
  tracker.finish(plan.trials.map((trial, i) => trialRow({ id: trial.id, objective: 1 - i / 10, best: i === 0 })));
  return journaled;
}
