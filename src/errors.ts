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
  | 'TRACKING_UNAVAILABLE';

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

/** The shape an error takes when it crosses a process boundary. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  cause?: SerializedError;
}

/** Turns any thrown value into plain data that survives IPC or JSON. */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = error instanceof PipelineError ? error.code : undefined;
  return {
    name: error.name,
    message: error.message,
    ...(error.stack === undefined ? {} : { stack: error.stack }),
    ...(code === undefined ? {} : { code }),
    ...(error.cause === undefined ? {} : { cause: serializeError(error.cause) }),
  };
}

/** Rebuilds a serialized error as a PipelineError, keeping its original code when it had one. */
export function deserializeError(data: SerializedError, context: string): PipelineError {
  const code = (data.code as ErrorCode | undefined) ?? 'STAGE_FAILED';
  const error = new PipelineError(code, `${context}: ${data.message}`);
  if (data.stack !== undefined) error.stack = data.stack;
  return error;
}

/** The message of any thrown value, for one-line reports. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
