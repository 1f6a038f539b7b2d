/** The optimizers a training run can use (tfjs' `tf.train.*`); kept apart from optimizer.ts so the planner needs no tfjs. */
export const OPTIMIZERS = ['sgd', 'adam', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
