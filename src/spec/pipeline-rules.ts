import { STAGES } from '../stages/catalog.js';
import { PipelineError } from '../errors.js';
import type { StageSpec } from '../types.js';
import type { YamlSource } from './yaml-source.js';

/** A broken cross-field rule: where (dot-path in the file) and what. */
export interface RuleViolation {
  path: PropertyKey[];
  message: string;
}

type PipelineRule = (stages: readonly StageSpec[]) => RuleViolation[];

const knownNeeds: PipelineRule = (stages) => {
  const names = new Set(stages.map((stage) => stage.name));
  return stages.flatMap((stage) =>
    stage.needs.flatMap((need, index) =>
      names.has(need) ? [] : [{ path: ['stages', stage.name, 'needs', index], message: `unknown stage '${need}'` }],
    ),
  );
};

const requiredInputs: PipelineRule = (stages) => {
  const kindOf = new Map(stages.map((stage) => [stage.name, stage.kind]));
  return stages.flatMap((stage) =>
    STAGES[stage.kind].inputs.flatMap((accepted) => {
      const found = stage.needs.some((need) => {
        const kind = kindOf.get(need);
        return kind !== undefined && accepted.includes(kind);
      });
      const message = `${stage.kind} reads the output of a ${accepted.join(' or ')} stage; list one in needs`;
      return found ? [] : [{ path: ['stages', stage.name, 'needs'], message }];
    }),
  );
};

const RULES: readonly PipelineRule[] = [knownNeeds, requiredInputs];

/** Checks every rule and orders stages so each comes after its needs; throws the first violation. */
export function checkPipelineRules(stages: StageSpec[], source: YamlSource): StageSpec[] {
  for (const rule of RULES) {
    const [violation] = rule(stages);
    if (violation) throw source.error(violation.path, violation.message);
  }
  return orderStages(stages, source);
}

/** Topological order (Kahn), keeping file order among independent stages. A cycle is a DAG_CYCLE error. */
export function orderStages(stages: StageSpec[], source: YamlSource): StageSpec[] {
  const ordered: StageSpec[] = [];
  const done = new Set<string>();
  let pending = [...stages];
  while (pending.length > 0) {
    const ready = pending.filter((stage) => stage.needs.every((need) => done.has(need)));
    if (ready.length === 0) {
      const cycle = findCycle(pending);
      throw new PipelineError(
        'DAG_CYCLE',
        `${source.locate(['stages', cycle[0] ?? ''])}: stages: dependency cycle ${cycle.join(' → ')}`,
      );
    }
    for (const stage of ready) done.add(stage.name);
    ordered.push(...ready);
    pending = pending.filter((stage) => !done.has(stage.name));
  }
  return ordered;
}

function findCycle(stages: readonly StageSpec[]): string[] {
  const byName = new Map(stages.map((stage) => [stage.name, stage]));
  const start = stages[0];
  if (!start) return [];
  const seen: string[] = [];
  let current: StageSpec | undefined = start;
  while (current && !seen.includes(current.name)) {
    seen.push(current.name);
    current = current.needs.map((need) => byName.get(need)).find((next) => next !== undefined);
  }
  if (!current) return seen;
  return [...seen.slice(seen.indexOf(current.name)), current.name];
}
