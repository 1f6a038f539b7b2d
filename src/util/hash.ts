import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal values always hash the same. */
export function canonicalJson(value: unknown): string {
  return canonical(value) ?? 'null';
}

// Written out rather than as a JSON.stringify replacer (which rebuilds every object): planning a 10^5-trial grid
// hashes a few hundred thousand of these. Same output as the replacer: undefined members and functions are dropped,
// toJSON is honoured, and non-finite numbers become null.
function canonical(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonical(JSON.parse(JSON.stringify(value)));
  if (Array.isArray(value)) return `[${value.map((item) => canonical(item) ?? 'null').join(',')}]`;
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const [key, prefix] of sortedKeys(Object.keys(record))) {
    const inner = canonical(record[key]);
    if (inner !== undefined) parts.push(prefix + inner);
  }
  return `{${parts.join(',')}}`;
}

// Objects of one shape (a stage's params in every trial) share their sorted keys and quoted "key": prefixes.
const shapes = new Map<string, [string, string][]>();

function sortedKeys(keys: string[]): [string, string][] {
  const shape = keys.join('\0');
  let sorted = shapes.get(shape);
  if (!sorted) {
    sorted = [...keys].sort().map((key) => [key, `${JSON.stringify(key)}:`]);
    if (shapes.size < 10_000) shapes.set(shape, sorted);
  }
  return sorted;
}

/** Hex SHA-256 of a string. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
