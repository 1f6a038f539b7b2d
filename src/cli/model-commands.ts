import type { Command } from '@commander-js/extra-typings';
import { backendOption, jsonOption, trackingUriOption, withSweepFlags, type Finish } from './cli-flags.js';

/**
 * Commands that load a trained model. Their handlers are imported when they run, so the sweep commands
 * (`plan`, `status`, ...) never load tfjs.
 */
export function registerModelCommands(program: Command, finish: Finish): void {
  withSweepFlags(
    program
      .command('predict')
      .argument('<path>')
      .description("classify images with a trial's model or a registered one (folder-per-class tree → CSV + report)")
      .option('--sweep <file>', 'sweep whose trial to use')
      .option('--trial <id>', "trial id, or 'best'", 'best')
      .option('--model <uri>', 'a model in the MLflow Model Registry: models:/NAME/VERSION, models:/NAME@ALIAS')
      .addOption(trackingUriOption)
      .option('--out <file>', 'CSV of truth vs prediction (folder-per-class input)', 'predictions.csv'),
  )
    .addOption(backendOption)
    .addOption(jsonOption)
    .action((target, options) =>
      finish(import('./predict-command.js').then(({ predictCommand }) => predictCommand(target, options))),
    );
}
