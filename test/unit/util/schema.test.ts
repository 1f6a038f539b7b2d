import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { exactSchema, positiveInt } from '../../../src/util/schema.js';

interface Options {
  size: number;
  name?: string | undefined;
  mode: 'a' | 'b';
}

describe('exactSchema', () => {
  it('accepts a schema whose output is exactly the declared type, and returns it unchanged', () => {
    const schema = z.strictObject({ size: positiveInt, name: z.string().optional(), mode: z.enum(['a', 'b']) });
    expect(exactSchema<Options>()(schema)).toBe(schema);
  });

  // Each line below must fail to compile (the typecheck step of `npm test` reports an unused @ts-expect-error if not);
  // at run time the check is a no-op, so only the compiler can tell.
  it('rejects schemas that drift from the type at compile time', () => {
    const base = { size: positiveInt, name: z.string().optional(), mode: z.enum(['a', 'b']) };
    const lacksMode = z.strictObject({ size: base.size, name: base.name });
    const extraKey = z.strictObject({ ...base, extra: z.number().optional() });
    const widerMode = z.strictObject({ ...base, mode: z.enum(['a', 'b', 'c']) });
    const narrowerMode = z.strictObject({ ...base, mode: z.enum(['a']) });
    const requiredName = z.strictObject({ ...base, name: z.string() });
    const check = exactSchema<Options>();
    // @ts-expect-error: the schema lacks the required key `mode`
    check(lacksMode);
    // @ts-expect-error: the schema has an optional key the type does not declare
    check(extraKey);
    // @ts-expect-error: `mode` allows a value the type does not
    check(widerMode);
    // @ts-expect-error: `mode` misses a value the type allows
    check(narrowerMode);
    // @ts-expect-error: `name` is required in the schema but optional in the type
    check(requiredName);
    // @ts-expect-error: enums are compared both ways too
    exactSchema<'x' | 'y'>()(z.enum(['x']));
    expect(exactSchema<'x' | 'y'>()(z.enum(['x', 'y'])).options).toEqual(['x', 'y']);
  });
});

describe('positiveInt', () => {
  it('accepts 1, 2, … and names the rule otherwise', () => {
    expect(positiveInt.parse(3)).toBe(3);
    for (const bad of [0, -1, 2.5])
      expect(positiveInt.safeParse(bad).error?.issues[0]?.message).toBe('must be a positive integer');
  });
});
