import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export interface WalkOptions {
  /** Leave out files and folders whose name starts with '.'. */
  skipHidden?: boolean;
}

/**
 * Every file under `root`, as sorted paths relative to it. Symbolic links are followed — a class folder or an image
 * that is a link counts like the real thing — with loop protection: a folder already visited (same device and inode,
 * e.g. a link to a parent) is not entered again. A link whose target is missing is listed, so that reading it reports
 * the problem instead of the file vanishing without a word.
 */
export function walkFiles(root: string, options: WalkOptions = {}): string[] {
  const files: string[] = [];
  const visited = new Set<string>();
  const visit = (dir: string) => {
    const info = statSync(dir);
    const id = `${info.dev}:${info.ino}`;
    if (visited.has(id)) return;
    visited.add(id);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (options.skipHidden && entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      const target = entry.isSymbolicLink() ? statSync(full, { throwIfNoEntry: false }) : entry;
      if (target?.isDirectory()) visit(full);
      else if (!target || target.isFile()) files.push(path.relative(root, full));
    }
  };
  visit(root);
  return files.sort();
}

/** Whether `file` is a folder, following a symbolic link. */
export function isFolder(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
