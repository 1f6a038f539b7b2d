#!/usr/bin/env node
import { Command } from '@commander-js/extra-typings';
import { messageOf, PipelineError, storageFailure, type ErrorCode } from './errors.js';
import type { Finish } from './cli/cli-flags.js';
import { registerModelCommands } from './cli/model-commands.js';
import { registerQueueCommands } from './cli/queue-commands.js';
import { registerReportCommand } from './cli/report-command.js';
import { registerVerifyCommand } from './cli/verify-command.js';
import { registerGcCommand } from './cli/gc-command.js';
import { registerSweepCommands } from './cli/sweep-commands.js';
import { registerTrackingCommands } from './cli/tracking-commands.js';

const EXIT_CODES: Partial<Record<ErrorCode, number>> = {
  USAGE: 2,
  SPEC_INVALID: 2,
  SPEC_NOT_FOUND: 2,
  DAG_CYCLE: 2,
  NOT_FOUND: 2,
  DATA_INVALID: 3,
  REDIS_UNAVAILABLE: 4,
  TRACKING_UNAVAILABLE: 4,
  BACKEND_UNAVAILABLE: 2,
  TRACKING_REJECTED: 4,
  TRACKING_BUSY: 4,
  WORKERS_UNAVAILABLE: 4,
  CANCELLED: 130,
  STORAGE_FAILED: 5,
};

// `pipeline plan x | head` closes stdout early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

let exitCode = 0;
const finish: Finish = async (status) => void (exitCode = await status);
const program = new Command('pipeline')
  .description('Run machine-learning experiment sweeps as a DAG, with shared stages and a content-hash cache.')
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) })
  .exitOverride();

registerSweepCommands(program, finish);
registerModelCommands(program, finish);
registerQueueCommands(program, finish);
registerTrackingCommands(program, finish);
registerReportCommand(program, finish);
registerVerifyCommand(program, finish);
registerGcCommand(program, finish);

try {
  await program.parseAsync();
} catch (error) {
  exitCode = report(error);
}
process.exitCode = exitCode;

/** The one place errors reach the user: one line, and the exit status their code maps to. */
function report(error: unknown): number {
  const commanderCode = (error as { code?: string }).code;
  if (commanderCode?.startsWith('commander.')) {
    return commanderCode === 'commander.helpDisplayed' || commanderCode === 'commander.version' ? 0 : 2;
  }
  const known = error instanceof PipelineError ? error : storageFailure(error);
  if (known) {
    process.stderr.write(`pipeline: ${known.message}\n`);
    return EXIT_CODES[known.code] ?? 1;
  }
  process.stderr.write(`pipeline: internal error: ${messageOf(error)}\n${(error as Error).stack ?? ''}\n`);
  return 70;
}
