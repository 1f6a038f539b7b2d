import type { Command } from '@commander-js/extra-typings';
import { InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { backendOption, jsonOption, positiveInt, trackingUriOption, withSweepFlags, type Finish } from './cli-flags.js';

/** `--min-confidence S`: detector score a face needs, 0..1. */
const minConfidenceOption = new Option('--min-confidence <score>', 'detector score a face needs (0..1)')
  .argParser((value) => {
    const score = Number(value);
    if (!(score >= 0 && score <= 1)) throw new InvalidArgumentError('expected a number from 0 to 1');
    return score;
  })
  .default(0.5);

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
  withSweepFlags(
    program
      .command('detect')
      .argument('<path>', 'a photo, or a folder of photos')
      .description("find every face in photos, classify each with a trial's model, write annotated PNGs + JSON")
      .option('--sweep <file>', 'sweep whose trial to use')
      .option('--trial <id>', "trial id, or 'best'", 'best')
      .option('--model <uri>', 'a model in the MLflow Model Registry: models:/NAME/VERSION, models:/NAME@ALIAS')
      .addOption(trackingUriOption)
      .option('--out <dir>', 'folder for the annotated PNGs and detections.json', 'detections')
      .option('--csv', 'also write detections.csv (one row per face)')
      .addOption(minConfidenceOption)
      .option('--max-faces <n>', 'at most this many faces per photo', positiveInt, 50)
      .option(
        '--truth <file>',
        'CSV of expected faces (image,label,x,y,width,height or cx,cy): truth-vs-prediction table',
      ),
  )
    .addOption(backendOption)
    .addOption(jsonOption)
    .action((target, options) =>
      finish(import('./detect-command.js').then(({ detectCommand }) => detectCommand(target, options))),
    );
}
