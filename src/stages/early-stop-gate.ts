import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StageContext } from './stage-context.js';

/**
 * The file handshake between a sweep's early stopping and a training run, in the node's checkpoint folder (shared
 * by the orchestrator and whoever trains: the local pool or a queue worker on the same workspace). Before train
 * starts, the orchestrator writes the epochs at which the trial is judged; at each of them train waits for the
 * verdict file. Files rather than messages, so a stage never learns how it is scheduled. A stage's own checkpoint
 * folder is its build attempt's, inside the node's (`checkpoints/<key>/<attempt>/`, docs/node-builds.md): the gate
 * lies beside the attempts, so every attempt sees the same verdicts.
 */
const FOLDER = 'early-stop';
const POLICY = 'milestones.json';
const POLL_MS = 100;

/** The orchestrator's verdict at a milestone epoch. */
export interface GateVerdict {
  stop: boolean;
  epoch: number;
  /** The rule and its numbers, in one line. */
  reason: string;
}

/** Arms the gate for a node about to train: forgets earlier verdicts, writes the epochs at which it must wait. */
export function armGate(checkpointDir: string, epochs: readonly number[]): void {
  const folder = path.join(checkpointDir, FOLDER);
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  writeAtomically(path.join(folder, POLICY), JSON.stringify(epochs));
}

/** Gives the verdict at `verdict.epoch` to the waiting train stage. */
export function writeGateVerdict(checkpointDir: string, verdict: GateVerdict): void {
  writeAtomically(path.join(checkpointDir, FOLDER, `epoch-${verdict.epoch}.json`), JSON.stringify(verdict));
}

/**
 * Called by train after finishing (and checkpointing) `epoch`: when the gate is armed and `epoch` is a milestone,
 * waits for the verdict; otherwise (no early stopping) returns undefined at once.
 */
export async function awaitGateVerdict(ctx: StageContext, epoch: number): Promise<GateVerdict | undefined> {
  const folder = path.join(path.dirname(ctx.checkpointDir), FOLDER);
  const policy = path.join(folder, POLICY);
  if (!existsSync(policy)) return undefined;
  const epochs = JSON.parse(readFileSync(policy, 'utf8')) as number[];
  if (!epochs.includes(epoch)) return undefined;
  const file = path.join(folder, `epoch-${epoch}.json`);
  while (!existsSync(file)) {
    ctx.throwIfCancelled();
    await sleep(POLL_MS);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as GateVerdict;
}

function writeAtomically(file: string, text: string): void {
  const temp = `${file}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}
