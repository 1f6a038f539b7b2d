import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PipelineError } from '../errors.js';
import type { MlflowClient } from './mlflow-client.js';
import { MlflowError } from './mlflow-request.js';

/** A model fetched from MLflow into a local folder. */
export interface DownloadedModel {
  /** The folder holding `MLmodel` and the model's files (tfjs: `model.json`, `weights.bin`, `classes.json`). */
  dir: string;
  /** Where it came from (`models:/face-mask/3`), and the version it resolved to, if registered. */
  uri: string;
  version: string | undefined;
  /** The MLmodel's `tfjs` flavour. */
  flavor: Record<string, unknown>;
}

/** What a `models:/` URI names: a registered version (by number, `latest` or alias), or a logged model by id. */
type ModelTarget =
  | { kind: 'version'; name: string; version: string }
  | { kind: 'alias'; name: string; alias: string }
  | { kind: 'logged'; modelId: string };

/** Parses `models:/NAME/VERSION`, `models:/NAME/latest`, `models:/NAME@ALIAS` or `models:/<logged model id>`. */
export function parseModelUri(uri: string): ModelTarget {
  const rest = /^models:\/(.+)$/.exec(uri)?.[1]?.replace(/^\/+/, '');
  const alias = rest ? /^([^@/]+)@([^@/]+)$/.exec(rest) : null;
  const version = rest ? /^(.+)\/([^/]+)$/.exec(rest) : null;
  if (alias?.[1] && alias[2]) return { kind: 'alias', name: alias[1], alias: alias[2] };
  if (version?.[1] && version[2]) return { kind: 'version', name: version[1], version: version[2] };
  if (rest && /^m-[0-9a-f]+$/.test(rest)) return { kind: 'logged', modelId: rest };
  throw new PipelineError(
    'USAGE',
    `--model ${uri}: give models:/NAME/VERSION, models:/NAME/latest, models:/NAME@ALIAS or models:/<model id>`,
  );
}

/**
 * Downloads a model from MLflow (registered version or logged model) into `dest` and checks it is a model this
 * tool logged (an MLmodel with a `tfjs` flavour). An unknown name or version is NOT_FOUND.
 */
export async function downloadModel(client: MlflowClient, uri: string, dest: string): Promise<DownloadedModel> {
  const target = parseModelUri(uri);
  const { artifactUri, version } = await locate(client, target, uri);
  await client.artifacts.downloadTree(artifactUri, dest);
  const flavor = readTfjsFlavor(dest, uri);
  return { dir: dest, uri, version, flavor };
}

async function locate(
  client: MlflowClient,
  target: ModelTarget,
  uri: string,
): Promise<{ artifactUri: string; version: string | undefined }> {
  try {
    if (target.kind === 'logged')
      return { artifactUri: (await client.models.get(target.modelId)).artifactUri, version: undefined };
    const version =
      target.kind === 'alias'
        ? (await client.registry.versionByAlias(target.name, target.alias)).version
        : target.version === 'latest'
          ? await latestVersion(client, target.name, uri)
          : target.version;
    return { artifactUri: await client.registry.downloadUri(target.name, version), version };
  } catch (error) {
    if (error instanceof MlflowError && (error.status === 404 || error.errorCode === 'RESOURCE_DOES_NOT_EXIST')) {
      throw new PipelineError('NOT_FOUND', `${uri}: not in the MLflow registry at ${client.uri} (${error.message})`);
    }
    throw error;
  }
}

async function latestVersion(client: MlflowClient, name: string, uri: string): Promise<string> {
  const versions = await client.registry.searchVersions(name);
  const latest = versions.map((v) => Number(v.version)).sort((a, b) => b - a)[0];
  if (latest === undefined) throw new PipelineError('NOT_FOUND', `${uri}: ${name} has no versions at ${client.uri}`);
  return String(latest);
}

function readTfjsFlavor(dir: string, uri: string): Record<string, unknown> {
  let mlmodel: { flavors?: Record<string, Record<string, unknown>> } | undefined;
  try {
    mlmodel = parse(readFileSync(path.join(dir, 'MLmodel'), 'utf8')) as typeof mlmodel;
  } catch {
    throw new PipelineError('DATA_INVALID', `${uri}: has no readable MLmodel file; it is not an MLflow model`);
  }
  const flavor = mlmodel?.flavors?.tfjs;
  if (!flavor) {
    const has = Object.keys(mlmodel?.flavors ?? {}).join(', ') || 'none';
    throw new PipelineError('DATA_INVALID', `${uri}: not a tfjs model logged by pipeline (its flavours: ${has})`);
  }
  return flavor;
}
