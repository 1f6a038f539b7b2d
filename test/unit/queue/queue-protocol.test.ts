import { describe, expect, it } from 'vitest';
import { NonRetryableStageError, PipelineError } from '../../../src/errors.js';
import { decodeFailure, encodeFailure, NON_RETRYABLE } from '../../../src/queue/queue-protocol.js';

describe("a job's failure reason", () => {
  it('carries the whole error through the queue, cause chain and code included', () => {
    const cause = new PipelineError('STAGE_CRASHED', 'stage process died (signal SIGKILL)', {
      cause: new Error('out of memory'),
    });
    const failure = new PipelineError('STAGE_FAILED', 't02/train (lr=0.01 optimizer=sgd): gave up', { cause });
    const rebuilt = decodeFailure(encodeFailure(failure), 't02/train (lr=0.01 optimizer=sgd)');
    expect([rebuilt.code, rebuilt.message]).toEqual(['STAGE_FAILED', 't02/train (lr=0.01 optimizer=sgd): gave up']);
    const first = rebuilt.cause as PipelineError;
    expect([first.code, first.message]).toEqual(['STAGE_CRASHED', 'stage process died (signal SIGKILL)']);
    expect((first.cause as Error).message).toBe('out of memory');
  });

  it('keeps the code that decides retries', () => {
    const bad = decodeFailure(encodeFailure(new NonRetryableStageError('t01/ingest: no images')), 't01/ingest');
    expect(bad.code).toBe('DATA_INVALID');
    expect(NON_RETRYABLE.has(bad.code)).toBe(true);
    const crashed = decodeFailure(encodeFailure(new PipelineError('STAGE_CRASHED', 'died')), 't01/train');
    expect(NON_RETRYABLE.has(crashed.code)).toBe(false);
  });

  it('a reason BullMQ wrote itself is a STAGE_FAILED headed by the node and its trial', () => {
    const stalled = decodeFailure('job stalled more than allowable limit', 't01/train (optimizer=adam)');
    expect([stalled.code, stalled.message]).toEqual([
      'STAGE_FAILED',
      't01/train (optimizer=adam): job stalled more than allowable limit',
    ]);
    expect(decodeFailure(undefined, 'split').message).toBe('split: failed on a worker');
    expect(decodeFailure('{"not":"an error"}', 'split').code).toBe('STAGE_FAILED');
  });
});
