import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isMap, isSeq, isNode, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { PipelineError } from '../errors.js';

/** A parsed YAML file that can point at the line and column of any dot-path inside it. */
export interface YamlSource {
  file: string;
  data: unknown;
  /** `file:line:col` of the value at `path` (or of its key, with `at: 'key'`), or of its nearest existing ancestor. */
  locate(path: readonly PropertyKey[], at?: 'key' | 'value'): string;
  /** A SPEC_INVALID error located at `path`, naming the dot-path. */
  error(path: readonly PropertyKey[], message: string, at?: 'key' | 'value'): PipelineError;
}

/** Reads and parses a YAML file; syntax errors become one SPEC_INVALID line with file:line:col. */
export async function readYamlSource(file: string, what: string): Promise<YamlSource> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'unreadable';
    throw new PipelineError('SPEC_NOT_FOUND', `${what} ${file}: ${reason}`, { cause });
  }
  return parseYamlSource(file, text);
}

/** Parses YAML text already in memory (see {@link readYamlSource}). */
export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = lineCounter.linePos(syntax.pos[0]);
    const reason = syntax.message.split('\n')[0] ?? syntax.code;
    throw new PipelineError('SPEC_INVALID', `${file}:${pos.line}:${pos.col}: YAML syntax: ${reason}`);
  }
  const locate = (path: readonly PropertyKey[], at: 'key' | 'value' = 'value'): string => {
    const node = nearestNode(doc, path, at);
    const offset = node?.range?.[0] ?? 0;
    const pos = lineCounter.linePos(offset);
    return `${file}:${pos.line}:${pos.col}`;
  };
  return {
    file,
    data: doc.toJS() as unknown,
    locate,
    error: (path, message, at) =>
      new PipelineError('SPEC_INVALID', `${locate(path, at)}: ${formatPath(path)}${message}`),
  };
}

/** Validates `source.data` against a zod schema, turning the first issue into a located error. */
export function parseWith<T extends z.ZodType>(source: YamlSource, schema: T): z.infer<T> {
  const result = schema.safeParse(source.data ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw source.error([], 'invalid');
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    throw source.error([...path, key], `unknown key (allowed: ${allowedKeys(schema, path)})`, 'key');
  }
  throw source.error(path, issue.message);
}

/** `a.b.c: ` for a non-empty path, '' for the root. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '' : `${path.map(String).join('.')}: `;
}

function nearestNode(doc: Document, path: readonly PropertyKey[], at: 'key' | 'value'): Node | undefined {
  let node: unknown = doc.contents;
  let found = isNode(node) ? node : undefined;
  for (const [index, key] of path.entries()) {
    const last = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isNode(item.key) && String((item.key as { value?: unknown }).value) === String(key),
      );
      if (!pair) break;
      // Point at the value when there is one, else at the key (e.g. `key:` with nothing after it).
      node = isNode(pair.value) && !(last && at === 'key') ? pair.value : pair.key;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
    } else {
      break;
    }
    if (isNode(node)) found = node;
  }
  return found;
}

function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[]): string {
  let current: unknown = schema;
  for (const key of path) {
    current = unwrap(current);
    const def = (
      current as { def?: { type?: string; shape?: Record<string, unknown>; valueType?: unknown; element?: unknown } }
    ).def;
    if (def?.type === 'object' || def?.type === 'union') current = objectShape(current)?.[String(key)];
    else if (def?.type === 'record') current = def.valueType;
    else if (def?.type === 'array') current = def.element;
    else return '?';
  }
  const shape = objectShape(current);
  return shape ? Object.keys(shape).join(', ') : '?';
}

/**
 * The fields of an object schema, or of every option of a union of objects (train's one option per model family:
 * the fields any family accepts), wrappers stripped; undefined for other schemas.
 */
export function objectShape(schema: unknown): Record<string, unknown> | undefined {
  const def = (unwrap(schema) as { def?: { type?: string; shape?: Record<string, unknown>; options?: unknown[] } }).def;
  if (def?.type === 'object') return def.shape;
  if (def?.type !== 'union' || !def.options) return undefined;
  const merged: Record<string, unknown> = {};
  for (const option of def.options) {
    const shape = objectShape(option);
    if (!shape) return undefined;
    for (const [key, value] of Object.entries(shape)) if (!(key in merged)) merged[key] = value;
  }
  return merged;
}

/** Strips optional/default/nullable wrappers from a zod schema. */
export function unwrap(schema: unknown): unknown {
  let current = schema as { def?: { type?: string; innerType?: unknown } } | undefined;
  while (current?.def && ['optional', 'default', 'nullable', 'prefault', 'readonly'].includes(current.def.type ?? '')) {
    current = current.def.innerType as typeof current;
  }
  return current;
}
