import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { sha256 } from '../util/hash.js';
import { redactUri } from './mlflow-auth.js';
import type { SourceFacts } from './run-entries.js';

/** Who runs this and from which code: the user, and the git commit, branch and origin URL of `dir`'s checkout. */
export function readSourceFacts(command: string, dir: string): SourceFacts {
  const remote = git(dir, ['config', '--get', 'remote.origin.url']);
  const branch = git(dir, ['rev-parse', '--abbrev-ref', 'HEAD']);
  return {
    command,
    user: userName(),
    gitCommit: git(dir, ['rev-parse', 'HEAD']),
    gitBranch: branch === 'HEAD' ? undefined : branch,
    gitRepoUrl: remote && withoutCredentials(remote),
  };
}

/** Hex SHA-256 of a file's text, or `unreadable`. */
export function hashFile(file: string): string {
  try {
    return sha256(readFileSync(file, 'utf8'));
  } catch {
    return 'unreadable';
  }
}

function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

// An origin URL may carry a token (https://user:token@host/repo); it must not end up in a tag.
function withoutCredentials(url: string): string {
  return redactUri(url).replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

// Outside a git checkout (or without git) the facts are simply missing.
function git(dir: string, args: string[]): string | undefined {
  try {
    const out = execFileSync('git', args, { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    return out.toString().trim() || undefined;
  } catch {
    return undefined;
  }
}
