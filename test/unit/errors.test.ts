import { describe, expect, it } from 'vitest';
import {
  deserializeError,
  nodeContext,
  NonRetryableStageError,
  parseSerializedError,
  PipelineError,
  serializeError,
  type SerializedError,
} from '../../src/errors.js';

/** What crossing a process or a queue does to an error: plain data, through JSON. */
const throughJson = (error: unknown): SerializedError =>
  parseSerializedError(JSON.parse(JSON.stringify(serializeError(error)))) ?? { name: 'unparsed', message: '' };

describe('errors across a process boundary', () => {
  it('rebuilds the code, class, name, stack and the whole cause chain', () => {
    const root = Object.assign(new Error('ENOENT: no such file, open data/x.jpg'), { code: 'ENOENT' });
    root.name = 'SystemError';
    const middle = new PipelineError('STORE_INVALID', 'ingest output is unreadable', { cause: root });
    const top = new NonRetryableStageError("class 'improper_mask' has no readable images", { cause: middle });

    const context = nodeContext({ nodeId: 't03/ingest', trialLabel: 'lr=0.01 optimizer=adam batchSize=32' });
    const rebuilt = deserializeError(throughJson(top), context);

    expect(rebuilt).toBeInstanceOf(NonRetryableStageError);
    expect(rebuilt.code).toBe('DATA_INVALID');
    expect(rebuilt.message).toBe(
      "t03/ingest (lr=0.01 optimizer=adam batchSize=32): class 'improper_mask' has no readable images",
    );
    expect(rebuilt.stack).toBe(top.stack);
    const cause = rebuilt.cause as PipelineError;
    expect(cause).toBeInstanceOf(PipelineError);
    expect([cause.name, cause.code, cause.message, cause.stack]).toEqual([
      'PipelineError',
      'STORE_INVALID',
      'ingest output is unreadable',
      middle.stack,
    ]);
    const last = cause.cause as Error;
    expect(last).not.toBeInstanceOf(PipelineError);
    expect([last.name, last.message, last.stack, last.cause]).toEqual([
      'SystemError',
      'ENOENT: no such file, open data/x.jpg',
      root.stack,
      undefined,
    ]);
    // A system error's own code is not one of ours, so it does not become one.
    expect('code' in last).toBe(false);
  });

  it('a rebuilt error serializes to what it was rebuilt from, context aside', () => {
    const original = new PipelineError('CANCELLED', 'stopped', {
      cause: new TypeError('x is undefined', { cause: 'a string' }),
    });
    const data = throughJson(original);
    expect(serializeError(deserializeError(data))).toEqual(data);
    expect(data.cause?.cause).toEqual({ name: 'Error', message: 'a string' });
  });

  it('an error without one of our codes becomes STAGE_FAILED, and its name survives', () => {
    const rebuilt = deserializeError(throughJson(new RangeError('bad shape')), 't01/train (optimizer=adam)');
    expect(rebuilt).toBeInstanceOf(PipelineError);
    expect([rebuilt.code, rebuilt.name, rebuilt.message]).toEqual([
      'STAGE_FAILED',
      'RangeError',
      't01/train (optimizer=adam): bad shape',
    ]);
  });

  it('keeps the code of an error from another copy of the module, where instanceof cannot tell', () => {
    const foreign = Object.assign(new Error('no face found'), { name: 'NonRetryableStageError', code: 'DATA_INVALID' });
    const rebuilt = deserializeError(throughJson(foreign), 'ingest');
    expect(rebuilt.code).toBe('DATA_INVALID');
    expect(rebuilt).toBeInstanceOf(NonRetryableStageError);
  });

  it('names a shared node by its id alone', () => {
    expect(nodeContext({ nodeId: 'split' })).toBe('split');
    expect(nodeContext({ nodeId: 't01/train', trialLabel: 'optimizer=adam' })).toBe('t01/train (optimizer=adam)');
  });

  it.each([
    ['not an object', 'boom'],
    ['no message', { name: 'Error' }],
    ['an unknown code', { name: 'Error', message: 'm', code: 'ENOENT' }],
    ['a malformed cause', { name: 'Error', message: 'm', cause: { name: 'Error' } }],
  ])('refuses data that is not a serialized error: %s', (_label, value) => {
    expect(parseSerializedError(value)).toBeUndefined();
  });
});
