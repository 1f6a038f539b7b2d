/** Stable error codes; the CLI maps them to exit statuses and one-line messages. */
export type ErrorCode =
  | 'SPEC_INVALID'
  | 'SPEC_NOT_FOUND'
  | 'DAG_CYCLE'
  | 'USAGE'
  | 'DATA_INVALID'
  | 'STAGE_FAILED'
  | 'STAGE_CRASHED'
  | 'STORE_INVALID'
  | 'NOT_FOUND'
  | 'CANCELLED'
  | 'REDIS_UNAVAILABLE'
  | 'TRACKING_UNAVAILABLE'
  | 'BACKEND_UNAVAILABLE'
  | 'TRACKING_REJECTED'
  | 'TRACKING_BUSY'
  | 'WORKERS_UNAVAILABLE'
  | 'STORAGE_FAILED';

/** Base error for everything the tool reports to a user: a code, a one-line message, an optional cause. */
export class PipelineError extends Error {
  override name = 'PipelineError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Bad input to a stage (missing folder, empty class, ...): retrying cannot help. */
export class NonRetryableStageError extends PipelineError {
  override name = 'NonRetryableStageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('DATA_INVALID', message, options);
  }
}

// Every code once, so a code read from plain data (IPC, a queue, another copy of this module) can be checked.
const KNOWN_CODES: Record<ErrorCode, true> = {
  SPEC_INVALID: true,
  SPEC_NOT_FOUND: true,
  DAG_CYCLE: true,
  USAGE: true,
  DATA_INVALID: true,
  STAGE_FAILED: true,
  STAGE_CRASHED: true,
  STORE_INVALID: true,
  NOT_FOUND: true,
  CANCELLED: true,
  REDIS_UNAVAILABLE: true,
  TRACKING_UNAVAILABLE: true,
  TRACKING_REJECTED: true,
  TRACKING_BUSY: true,
  WORKERS_UNAVAILABLE: true,
  BACKEND_UNAVAILABLE: true,
  STORAGE_FAILED: true,
};

const STORAGE_REASONS: Record<string, string> = {
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
};

/**
 * A disk that refused a write (full, read-only, no permission) as STORAGE_FAILED naming the file (or `where`), or undefined for
 * any other error: such a failure is the machine's state, not a bug, and gets one line instead of a stack trace.
 */
export function storageFailure(error: unknown, where?: string): PipelineError | undefined {
  const { code, path } = (error ?? {}) as NodeJS.ErrnoException;
  const reason = code === undefined ? undefined : STORAGE_REASONS[code];
  if (reason === undefined) return undefined;
  return new PipelineError('STORAGE_FAILED', `${path ?? where ?? 'the workspace'}: cannot write (${code}: ${reason})`, {
    cause: error,
  });
}

/** Whether `value` is one of the stable error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(KNOWN_CODES, value);
}

/** The shape an error takes when it crosses a process boundary. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: ErrorCode;
  cause?: SerializedError;
}

/**
 * Turns any thrown value into plain data that survives IPC or JSON, cause chain included. The code is read from
 * the error's `code` field rather than by `instanceof`, so an error from another copy of this module keeps it.
 */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...(error.stack === undefined ? {} : { stack: error.stack }),
    ...(isErrorCode(code) ? { code } : {}),
    ...(error.cause === undefined ? {} : { cause: serializeError(error.cause) }),
  };
}

/** Reads back what {@link serializeError} wrote, after JSON; undefined when `value` does not have that shape. */
export function parseSerializedError(value: unknown): SerializedError | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { name, message, stack, code, cause } = value as Record<string, unknown>;
  if (typeof name !== 'string' || typeof message !== 'string') return undefined;
  if (stack !== undefined && typeof stack !== 'string') return undefined;
  if (code !== undefined && !isErrorCode(code)) return undefined;
  const parsedCause = cause === undefined ? undefined : parseSerializedError(cause);
  if (cause !== undefined && parsedCause === undefined) return undefined;
  return {
    name,
    message,
    ...(stack === undefined ? {} : { stack }),
    ...(code === undefined ? {} : { code }),
    ...(parsedCause === undefined ? {} : { cause: parsedCause }),
  };
}

/**
 * Rebuilds a serialized error as a PipelineError with its original code (STAGE_FAILED when it had none), name and
 * stack, and its cause chain rebuilt the same way. `context` says where it happened (see {@link nodeContext}) and
 * heads the message; causes keep their own messages. The code, not the class, decides retries and exit statuses.
 */
export function deserializeError(data: SerializedError, context?: string): PipelineError {
  const message = context === undefined ? data.message : `${context}: ${data.message}`;
  const options = data.cause === undefined ? {} : { cause: rebuildCause(data.cause) };
  const error =
    data.name === 'NonRetryableStageError' && data.code === 'DATA_INVALID'
      ? new NonRetryableStageError(message, options)
      : new PipelineError(data.code ?? 'STAGE_FAILED', message, options);
  return restore(error, data);
}

/** A cause with a code comes back as a PipelineError; any other as an Error of the same name. */
function rebuildCause(data: SerializedError): Error {
  if (data.code !== undefined) return deserializeError(data);
  const error = new Error(data.message, data.cause === undefined ? {} : { cause: rebuildCause(data.cause) });
  return restore(error, data);
}

// The stack is the original one; one made here would point into this function.
function restore<E extends Error>(error: E, data: SerializedError): E {
  error.name = data.name;
  if (data.stack === undefined) delete error.stack;
  else error.stack = data.stack;
  return error;
}

/**
 * Where a node's error happened, for the head of its message: the node id and, for a node of one trial, that
 * trial's grid values: `t03/train (lr=0.01 optimizer=adam batchSize=32)`.
 */
export function nodeContext(node: { nodeId: string; trialLabel?: string }): string {
  return node.trialLabel ? `${node.nodeId} (${node.trialLabel})` : node.nodeId;
}

/** The message of any thrown value, for one-line reports. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
