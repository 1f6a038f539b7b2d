import { readFileSync } from 'node:fs';

/**
 * CPU time of this process and of the whole machine, to tell how much of the timed interval went to other
 * processes. The benchmark machine is shared; a row measured while something else ran is not comparable.
 */
export interface CpuSnapshot {
  /** This process, all threads (getrusage), in seconds. */
  own: number;
  /** All cores, non-idle time from /proc/stat, in seconds; undefined where there is no /proc. */
  busy?: number;
  /** Time the hypervisor gave to other guests, in seconds. */
  steal?: number;
}

export interface CpuUse {
  ownSeconds: number;
  /** Busy time of every other process (and the kernel on their behalf) during the interval. */
  otherSeconds: number | null;
  stealSeconds: number | null;
}

/** /proc/stat counts in USER_HZ ticks, which is 100 on every Linux ABI Node supports. */
const TICKS_PER_SECOND = 100;

export function cpuSnapshot(): CpuSnapshot {
  const { user, system } = process.cpuUsage();
  const own = (user + system) / 1e6;
  try {
    // First line: "cpu  user nice system idle iowait irq softirq steal guest guest_nice".
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [user_, nice, system_, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = [user_, nice, system_, irq, softirq].reduce<number>((sum, ticks) => sum + (ticks ?? 0), 0);
    return { own, busy: busy / TICKS_PER_SECOND, steal: (steal ?? 0) / TICKS_PER_SECOND };
  } catch {
    return { own };
  }
}

export function cpuUse(from: CpuSnapshot, to: CpuSnapshot): CpuUse {
  const ownSeconds = to.own - from.own;
  const busy = from.busy !== undefined && to.busy !== undefined ? to.busy - from.busy : undefined;
  const steal = from.steal !== undefined && to.steal !== undefined ? to.steal - from.steal : undefined;
  return {
    ownSeconds,
    otherSeconds: busy === undefined ? null : Math.max(0, busy - ownSeconds),
    stealSeconds: steal ?? null,
  };
}
