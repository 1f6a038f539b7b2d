import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PipelineError } from '../../../src/errors.js';
import { BackgroundSync } from '../../../src/tracking/background-sync.js';
import type { SyncReport } from '../../../src/tracking/journal-records.js';

const ok = (rejected: SyncReport['rejected'] = []): SyncReport => ({
  sent: 1,
  runsCreated: 0,
  rejected,
  droppedBytes: 0,
});

/** A `send` that answers from a script (a report, or an error to throw), then reports success; and the warnings. */
function scripted(...script: (SyncReport | Error)[]) {
  const warnings: string[] = [];
  const send = vi.fn(() => {
    const next = script.shift() ?? ok();
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  });
  const sync = new BackgroundSync({ send, warn: (line) => warnings.push(line), delayMs: 300, pauseMs: 10_000 });
  return { sync, send, warnings };
}

describe('BackgroundSync', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('waits the delay before sending, so records journaled together go out in one send', async () => {
    const { sync, send } = scripted();
    sync.schedule();
    await vi.advanceTimersByTimeAsync(100);
    sync.schedule();
    sync.schedule();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(send).toHaveBeenCalledTimes(1);
  });

  it('gathers the schedules of one delay into one send, and sends again for records journaled meanwhile', async () => {
    // Each send is held until the test releases it, as a slow server would.
    const held: (() => void)[] = [];
    const send = vi.fn(() => new Promise<SyncReport>((resolve) => held.push(() => resolve(ok()))));
    const sync = new BackgroundSync({ send, warn: () => undefined, delayMs: 300 });
    sync.schedule();
    sync.schedule();
    await vi.advanceTimersByTimeAsync(299);
    expect(send).toHaveBeenCalledTimes(0);
    sync.schedule();
    await vi.advanceTimersByTimeAsync(1);
    expect(send).toHaveBeenCalledTimes(1);
    sync.schedule();
    await vi.advanceTimersByTimeAsync(300);
    expect(send).toHaveBeenCalledTimes(1);
    held.shift()?.();
    await vi.advanceTimersByTimeAsync(300);
    expect(send).toHaveBeenCalledTimes(2);
    const closed = sync.close();
    held.shift()?.();
    await vi.advanceTimersByTimeAsync(0);
    expect(send).toHaveBeenCalledTimes(3);
    held.shift()?.();
    await closed;
  });

  it('a server that is down is reported once and tried again after the pause; close tries once more', async () => {
    const down = () => new PipelineError('TRACKING_UNAVAILABLE', 'MLflow at http://x is unreachable (ECONNREFUSED)');
    const { sync, send, warnings } = scripted(down(), down());
    sync.schedule();
    await vi.advanceTimersByTimeAsync(300);
    sync.schedule();
    await vi.advanceTimersByTimeAsync(9_000);
    expect(send).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1_000);
    sync.schedule();
    await vi.advanceTimersByTimeAsync(300);
    expect(send).toHaveBeenCalledTimes(2);
    expect(warnings).toEqual(['tracking: MLflow at http://x is unreachable (ECONNREFUSED)']);
    await sync.close();
    expect(send).toHaveBeenCalledTimes(3);
  });

  it('any other tracking error stops the sending for the run, reported once', async () => {
    const { sync, send, warnings } = scripted(new PipelineError('TRACKING_BUSY', 'another pipeline process (pid 7)'));
    sync.schedule();
    await vi.advanceTimersByTimeAsync(300);
    await vi.advanceTimersByTimeAsync(20_000);
    sync.schedule();
    await vi.advanceTimersByTimeAsync(300);
    await sync.close();
    expect(send).toHaveBeenCalledTimes(1);
    expect(warnings).toEqual(['tracking: another pipeline process (pid 7)']);
  });

  it('records the server refused are reported once, with the first one', async () => {
    const { sync, warnings } = scripted(ok([{ index: 3, error: 'answered 400 INVALID_PARAMETER_VALUE' }]));
    sync.schedule();
    await vi.advanceTimersByTimeAsync(300);
    await sync.close();
    expect(warnings).toEqual([
      'tracking: MLflow refused a record (kept in the journal): answered 400 INVALID_PARAMETER_VALUE',
    ]);
  });

  it('an error that is not a tracking error is a bug, and is not swallowed', async () => {
    const { sync } = scripted(new TypeError('boom'));
    await expect(sync.close()).rejects.toThrow('boom');
  });
});
