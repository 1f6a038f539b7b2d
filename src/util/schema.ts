import { z } from 'zod';

/** An integer ≥ 1, with one message for both ways to miss. */
export const positiveInt = z.number().int('must be a positive integer').positive('must be a positive integer');

/** True when each of A and B is assignable to the other. */
type MutuallyAssignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Keys that only one of A and B has (never for non-objects). */
type KeyDrift<A, B> = [A, B] extends [object, object] ? Exclude<keyof A, keyof B> | Exclude<keyof B, keyof A> : never;
/** `unknown` when Output is T (same keys, each side assignable to the other), else a type naming the mismatch. */
type SchemaMatch<Output, T> =
  MutuallyAssignable<Output, T> extends true
    ? [KeyDrift<Output, T>] extends [never]
      ? unknown
      : { 'keys the schema and the type do not share': KeyDrift<Output, T> }
    : { 'the schema output is not the declared type': T };

/**
 * Returns the schema unchanged, and compiles only when the schema's output is exactly `T`: the same keys, each side
 * assignable to the other. A layer that declares its own option type (ml's `AugmentOptions`) and a layer that
 * validates user input against a schema (the stage catalog) then cannot drift apart without a type error.
 *
 * @example export const AugmentSchema = exactSchema<AugmentOptions>()(z.strictObject({ … }));
 */
export function exactSchema<T>() {
  return <S extends z.ZodType>(schema: S & SchemaMatch<z.output<S>, T>): S => schema;
}
