#!/usr/bin/env node
/**
 * Installs and builds @tensorflow/tfjs-node@4.22.0 without storage.googleapis.com.
 *
 * tfjs-node's own install script downloads libtensorflow 2.9.1 from Google's CDN, which this
 * project's machines cannot reach, so `npm ci` skips it (it is an optionalDependency). This
 * script takes libtensorflow from a PyPI `tensorflow-cpu` wheel instead (TF >= 2.12 wheels ship
 * `libtensorflow_cc.so.2`, which exports the whole C API that the addon calls), or from a
 * libtensorflow tarball, and compiles the addon locally with node-pre-gyp/node-gyp.
 *
 * Usage (from the project root, after `npm ci`):
 *   node scripts/setup-native-tf.mjs [--wheel PATH | --tarball PATH] [--tf-version V] [--force] [--verbose] [--optional]
 *
 * Needs: Linux x86_64 (glibc >= 2.17, CPU with AVX), python3 with pip (for the wheel), g++/make,
 * Node headers (npm `nodedir`, or <node prefix>/include/node). See docs/native-tf.md.
 * Touches only .cache/native-tf/ and node_modules/; package.json and package-lock.json are
 * restored byte for byte if npm rewrites them.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';

const TFJS_NODE_VERSION = '4.22.0';
/** First tensorflow-cpu release whose Linux wheel ships libtensorflow_cc.so.2 (2.9-2.11 do not). */
const DEFAULT_TF_VERSION = '2.12.1';
const ROOT = process.cwd();
const CACHE_DIR = process.env.NATIVE_TF_CACHE_DIR ?? path.join(ROOT, '.cache', 'native-tf');
const PKG_DIR = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
const GUARDED_FILES = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json'];
const started = Date.now();
let verbose = false;

const log = (msg) => console.log(`[native-tf] ${msg}`);
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;

class SetupError extends Error {}

/**
 * Runs a command; returns its stdout, or throws SetupError. The last output line matching
 * `reason` becomes the error message; without one, the output tail is printed above it.
 */
function run(cmd, args, { cwd = ROOT, env = process.env, what, reason } = {}) {
  if (verbose) log(`$ ${cmd} ${args.join(' ')}`);
  const res = spawnSync(cmd, args, {
    cwd,
    env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: verbose ? 'inherit' : 'pipe',
  });
  if (res.error) throw new SetupError(`${what}: cannot run ${cmd} (${res.error.message})`);
  if (res.status !== 0) {
    const lines = `${res.stdout ?? ''}${res.stderr ?? ''}`.trim().split('\n');
    const why = reason && lines.findLast((l) => reason.test(l));
    if (why) throw new SetupError(`${what}: ${why.trim()}`);
    if (lines.join('')) console.error(lines.slice(-25).join('\n'));
    throw new SetupError(`${what} failed (${cmd} exited with ${res.status}); output above`);
  }
  return res.stdout ?? '';
}

const OPTIONS = {
  wheel: { type: 'string' },
  tarball: { type: 'string' },
  'tf-version': { type: 'string', default: DEFAULT_TF_VERSION },
  force: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  optional: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

const HELP = `usage: node scripts/setup-native-tf.mjs [--wheel PATH | --tarball PATH] [--tf-version V] [--force] [--verbose]
  --wheel PATH     use this tensorflow-cpu wheel (>= 2.12, manylinux x86_64) instead of downloading one
  --tarball PATH   use a libtensorflow .tar.gz (lib/ + include/, e.g. Google's libtensorflow-cpu-linux-x86_64-2.9.1)
  --tf-version V   tensorflow-cpu version to download with pip (default ${DEFAULT_TF_VERSION})
  --force          rebuild even if @tensorflow/tfjs-node already loads
  --verbose        show the output of pip, npm and node-gyp as they run
  --optional       on failure, warn and exit 0 (pipeline then runs on the pure-JS backend)
Cache: .cache/native-tf/ (override with NATIVE_TF_CACHE_DIR). Docs: docs/native-tf.md`;

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({ options: OPTIONS }));
  } catch (err) {
    throw new SetupError(`${err.message} (see --help)`);
  }
  if (values.wheel && values.tarball) throw new SetupError('give --wheel or --tarball, not both');
  for (const key of ['wheel', 'tarball']) {
    if (values[key]) values[key] = path.resolve(values[key]);
    if (values[key] && !fs.existsSync(values[key])) throw new SetupError(`--${key} ${values[key]} does not exist`);
  }
  return values;
}

function checkHost() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new SetupError(`only linux-x64 is supported (this is ${process.platform}-${process.arch})`);
  }
  const glibc = process.report?.getReport().header.glibcVersionRuntime;
  if (glibc && compareVersions(glibc, '2.17') < 0)
    throw new SetupError(`glibc ${glibc} is older than 2.17, which the TF wheels need`);
  if (!fs.existsSync(path.join(ROOT, 'package.json')))
    throw new SetupError(`no package.json in ${ROOT}; run this from the project root`);
  const req = createRequire(path.join(ROOT, 'package.json'));
  let tfjsVersion;
  try {
    const where = req.resolve('@tensorflow/tfjs/package.json');
    if (!where.startsWith(path.join(ROOT, 'node_modules') + path.sep)) throw new Error(where);
    tfjsVersion = req(where).version;
  } catch {
    throw new SetupError('@tensorflow/tfjs is not installed; run `npm ci` first');
  }
  if (tfjsVersion !== TFJS_NODE_VERSION)
    log(`warning: @tensorflow/tfjs is ${tfjsVersion}, tfjs-node will be ${TFJS_NODE_VERSION}`);
}

function compareVersions(a, b) {
  const pa = a.split('.').map(Number),
    pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  }
  return 0;
}

/** Loads tfjs-node in a fresh process (a failed dlopen must not poison this one) and runs a conv. */
function verify() {
  const probe = `
    const where = require.resolve('@tensorflow/tfjs-node', { paths: [process.cwd()] });
    if (!where.startsWith(${JSON.stringify(PKG_DIR + path.sep)})) throw new Error('Cannot find module in ./node_modules (resolved ' + where + ')');
    const tf = require(where);
    const y = tf.conv2d(tf.ones([1, 8, 8, 3]), tf.ones([3, 3, 3, 4]), 1, 'valid');
    const ok = y.shape.join() === '1,6,6,4' && y.dataSync()[0] === 27;
    console.log(JSON.stringify({ backend: tf.getBackend(), ok, tf: tf.backend().binding.TF_Version }));`;
  const res = spawnSync(process.execPath, ['--input-type=commonjs', '-e', probe], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  const line = (res.stdout ?? '').trim().split('\n').pop();
  try {
    const out = JSON.parse(line);
    if (out.backend === 'tensorflow' && out.ok) return { ok: true, tfVersion: out.tf };
    return {
      ok: false,
      reason: `backend is '${out.backend}', conv check ${out.ok ? 'passed' : 'failed'}`,
    };
  } catch {
    if (res.signal)
      return {
        ok: false,
        reason: `node was killed by ${res.signal}${res.signal === 'SIGILL' ? ' (TF needs a CPU with AVX)' : ''}`,
      };
    const err = (res.stderr ?? '').split('\n').find((l) => /^\w*Error\b|error:/.test(l)) ?? `exit ${res.status}`;
    return { ok: false, reason: err.trim() };
  }
}

function findPython() {
  for (const py of [process.env.PYTHON, 'python3', 'python'].filter(Boolean)) {
    if (spawnSync(py, ['-c', 'import zipfile'], { stdio: 'ignore' }).status === 0) return py;
  }
  throw new SetupError('python3 is needed to download and unpack the TensorFlow wheel (or pass --tarball)');
}

function obtainWheel(python, tfVersion) {
  const wheelDir = path.join(CACHE_DIR, 'wheels');
  const cached = () =>
    fs.existsSync(wheelDir) &&
    fs.readdirSync(wheelDir).find((f) => f.startsWith(`tensorflow_cpu-${tfVersion}-`) && f.endsWith('.whl'));
  if (!cached()) {
    log(`downloading tensorflow-cpu==${tfVersion} wheel from PyPI (~230 MB) into ${path.relative(ROOT, wheelDir)}/`);
    // Only the shared libraries are used, so the wheel's Python tag is irrelevant: pin one that exists.
    run(
      python,
      [
        '-m',
        'pip',
        'download',
        `tensorflow-cpu==${tfVersion}`,
        '--no-deps',
        '--only-binary=:all:',
        '--python-version',
        '3.10',
        '--platform',
        'manylinux2014_x86_64',
        '-d',
        wheelDir,
      ],
      { what: 'pip download', reason: /^ERROR: / },
    );
  }
  const name = cached();
  if (!name) throw new SetupError(`pip download finished but no tensorflow_cpu-${tfVersion}-*.whl is in ${wheelDir}`);
  return path.join(wheelDir, name);
}

/** Python helper: copy the two libraries and the C API headers out of the wheel. */
const UNPACK_WHEEL_PY = `
import os, re, shutil, sys, zipfile
whl, out = sys.argv[1], sys.argv[2]
libs = {'tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'}
hdr = re.compile(r'tensorflow/include/((tensorflow/(tsl/)?c/.*|tsl/c/.*|.*/platform/ctstring.*)\\.h)$')
found = set()
with zipfile.ZipFile(whl) as z:
    for info in z.infolist():
        m = hdr.match(info.filename)
        dest = 'lib/' + info.filename.split('/')[-1] if info.filename in libs else ('include/' + m.group(1) if m else None)
        if dest is None: continue
        found.add(info.filename)
        os.makedirs(os.path.dirname(os.path.join(out, dest)), exist_ok=True)
        with z.open(info) as src, open(os.path.join(out, dest), 'wb') as dst: shutil.copyfileobj(src, dst, 1 << 20)
missing = libs - found
if missing: sys.exit('wheel lacks ' + ', '.join(sorted(missing)) + ' (TF < 2.12 wheels keep the C API in _pywrap_tensorflow_internal.so, which needs libpython)')
`;

/** Builds CACHE_DIR/libtensorflow-<id>/{lib,include} laid out like Google's libtensorflow tarball. */
function layOutLibtensorflow(opts) {
  const source = opts.tarball ?? opts.wheel;
  // A wheel is named dist-version-pytag-...: dist-version identifies the libraries inside.
  const id = opts.tarball
    ? path.basename(opts.tarball).replace(/(\.tar\.gz|\.tgz)$/, '')
    : opts.wheel
      ? path.basename(opts.wheel).split('-').slice(0, 2).join('-')
      : `tensorflow_cpu-${opts['tf-version']}`;
  const layout = path.join(CACHE_DIR, `libtensorflow-${id}`);
  if (fs.existsSync(path.join(layout, '.complete'))) {
    log(`libtensorflow already laid out in ${path.relative(ROOT, layout)}/`);
    return layout;
  }
  const tmp = `${layout}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    unpackInto(tmp, opts);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  fs.writeFileSync(path.join(tmp, '.complete'), `${source ?? id}\n`);
  fs.rmSync(layout, { recursive: true, force: true });
  fs.renameSync(tmp, layout);
  return layout;
}

function unpackInto(tmp, opts) {
  if (opts.tarball) {
    log(`unpacking ${opts.tarball}`);
    run('tar', ['-xzf', opts.tarball, '-C', tmp], {
      what: 'unpacking the tarball',
    });
  } else {
    const python = findPython();
    const wheel = opts.wheel ?? obtainWheel(python, opts['tf-version']);
    log(`extracting libtensorflow_cc.so.2, libtensorflow_framework.so.2 and C headers from ${path.basename(wheel)}`);
    run(python, ['-c', UNPACK_WHEEL_PY, wheel, tmp], {
      what: `unpacking ${path.basename(wheel)}`,
      reason: /\S/,
    });
  }
  addLibraryLinks(path.join(tmp, 'lib'));
  if (!fs.existsSync(path.join(tmp, 'include', 'tensorflow', 'c', 'eager', 'c_api.h'))) {
    throw new SetupError('the unpacked libtensorflow has no include/tensorflow/c/eager/c_api.h');
  }
}

/**
 * binding.gyp links `-ltensorflow -ltensorflow_framework`; a wheel names the C API library
 * libtensorflow_cc.so.2. install.js treats libtensorflow.so.2.9.1 as "already downloaded", so a
 * later `npm rebuild` recompiles against these libraries instead of fetching from the CDN.
 */
function addLibraryLinks(libDir) {
  const has = (f) => fs.existsSync(path.join(libDir, f));
  const main = ['libtensorflow.so.2', 'libtensorflow_cc.so.2', 'libtensorflow.so'].find(has);
  const framework = ['libtensorflow_framework.so.2', 'libtensorflow_framework.so'].find(has);
  if (!main || !framework)
    throw new SetupError(`${libDir} lacks libtensorflow(.so.2|_cc.so.2) or libtensorflow_framework.so.2`);
  const links = {
    'libtensorflow.so': main,
    'libtensorflow.so.2': main,
    'libtensorflow.so.2.9.1': main,
    'libtensorflow_framework.so': framework,
    'libtensorflow_framework.so.2': framework,
  };
  for (const [name, target] of Object.entries(links)) {
    if (name !== target && !has(name)) fs.symlinkSync(target, path.join(libDir, name));
  }
}

function packageInstalled() {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(PKG_DIR, 'package.json'), 'utf8'));
    const preGyp = createRequire(path.join(PKG_DIR, 'package.json')).resolve('@mapbox/node-pre-gyp');
    return pkg.version === TFJS_NODE_VERSION && preGyp.startsWith(path.join(ROOT, 'node_modules') + path.sep);
  } catch {
    return false;
  }
}

/**
 * --ignore-scripts keeps install.js from calling the CDN. --no-save should leave the manifests
 * alone; they are still compared and put back byte for byte, since the repo's lockfile is the contract.
 */
function installPackage() {
  if (packageInstalled()) {
    log(`@tensorflow/tfjs-node@${TFJS_NODE_VERSION} package files already in node_modules`);
    return;
  }
  log(`npm install --no-save --ignore-scripts @tensorflow/tfjs-node@${TFJS_NODE_VERSION}`);
  const saved = new Map(GUARDED_FILES.map((f) => [f, fs.existsSync(f) ? fs.readFileSync(f) : null]));
  const before = new Set(listTopLevelPackages());
  try {
    const flags = ['--no-save', '--ignore-scripts', '--include=optional', '--no-audit', '--no-fund'];
    run('npm', ['install', ...flags, `@tensorflow/tfjs-node@${TFJS_NODE_VERSION}`], { what: 'npm install' });
  } finally {
    restoreFiles(saved);
  }
  removeUnbuiltNewcomers(before);
  if (!packageInstalled()) {
    throw new SetupError('npm install finished but node_modules/@tensorflow/tfjs-node is incomplete');
  }
}

function restoreFiles(saved) {
  for (const [file, bytes] of saved) {
    const now = fs.existsSync(file) ? fs.readFileSync(file) : null;
    if (bytes === null ? now === null : now !== null && bytes.equals(now)) continue;
    log(`npm changed ${file}; restoring it`);
    if (bytes === null) fs.rmSync(file);
    else fs.writeFileSync(file, bytes);
  }
}

function listTopLevelPackages() {
  const nm = path.join(ROOT, 'node_modules');
  if (!fs.existsSync(nm)) return [];
  return fs
    .readdirSync(nm)
    .flatMap((name) =>
      name.startsWith('@') && fs.statSync(path.join(nm, name)).isDirectory()
        ? fs.readdirSync(path.join(nm, name)).map((sub) => `${name}/${sub}`)
        : [name],
    );
}

/**
 * npm also re-adds other optional packages that `npm ci` had dropped after their install script
 * failed (e.g. @tensorflow/tfjs-node-gpu). With --ignore-scripts they would arrive unbuilt and
 * throw on require, so they go again.
 */
function removeUnbuiltNewcomers(before) {
  for (const name of listTopLevelPackages()) {
    if (before.has(name) || name === '@tensorflow/tfjs-node') continue;
    const manifest = path.join(ROOT, 'node_modules', name, 'package.json');
    const scripts = fs.existsSync(manifest) ? (JSON.parse(fs.readFileSync(manifest, 'utf8')).scripts ?? {}) : {};
    if (!['preinstall', 'install', 'postinstall'].some((k) => k in scripts)) continue;
    log(`removing ${name}: npm added it with its install script skipped, so it would not load`);
    fs.rmSync(path.join(ROOT, 'node_modules', name), {
      recursive: true,
      force: true,
    });
  }
}

/** Hard links keep node_modules from doubling the ~580 MB of libraries; copies if across devices. */
function stageDeps(layout) {
  const deps = path.join(PKG_DIR, 'deps');
  fs.rmSync(deps, { recursive: true, force: true });
  fs.mkdirSync(path.join(deps, 'lib'), { recursive: true });
  for (const name of fs.readdirSync(path.join(layout, 'lib'))) {
    const src = path.join(layout, 'lib', name),
      dest = path.join(deps, 'lib', name);
    if (fs.lstatSync(src).isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(src), dest);
    else {
      try {
        fs.linkSync(src, dest);
      } catch {
        fs.copyFileSync(src, dest);
      }
    }
  }
  fs.cpSync(path.join(layout, 'include'), path.join(deps, 'include'), {
    recursive: true,
  });
  log(`staged libtensorflow into ${path.relative(ROOT, deps)}/`);
}

/** node-gyp would otherwise try to download Node headers, which fails offline. */
function findNodeDir() {
  const fromNpm = spawnSync('npm', ['config', 'get', 'nodedir'], {
    encoding: 'utf8',
  }).stdout?.trim();
  const candidates = [process.env.npm_config_nodedir, fromNpm, path.resolve(path.dirname(process.execPath), '..')];
  return candidates.find(
    (d) => d && d !== 'undefined' && fs.existsSync(path.join(d, 'include', 'node', 'common.gypi')),
  );
}

function findNodeGyp() {
  const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(npmRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.resolve(
      path.dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  return candidates.find((p) => p && fs.existsSync(p));
}

function buildAddon() {
  const nodeDir = findNodeDir();
  const nodeGyp = findNodeGyp();
  if (!nodeDir)
    log('warning: no Node headers found (npm nodedir / <prefix>/include/node); node-gyp will try to download them');
  if (!nodeGyp) log("warning: npm's bundled node-gyp not found; node-pre-gyp will search for one");
  log('compiling tfjs_binding.node (node-pre-gyp install --build-from-source)');
  for (const dir of ['build', 'lib']) fs.rmSync(path.join(PKG_DIR, dir), { recursive: true, force: true });
  const bin = createRequire(path.join(PKG_DIR, 'package.json')).resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp');
  const env = {
    ...process.env,
    ...(nodeGyp ? { npm_config_node_gyp: nodeGyp } : {}),
  };
  const args = [bin, 'install', '--build-from-source', ...(nodeDir ? [`--nodedir=${nodeDir}`] : [])];
  run(process.execPath, args, {
    cwd: PKG_DIR,
    env,
    what: 'building the tfjs-node addon',
  });
}

function main() {
  const opts = parseOptions();
  if (opts.help) {
    console.log(HELP);
    return;
  }
  verbose = opts.verbose;
  checkHost();
  if (!opts.force) {
    const state = verify();
    if (state.ok) {
      log(
        `@tensorflow/tfjs-node already works (backend=tensorflow, libtensorflow ${state.tfVersion}); nothing to do (${elapsed()})`,
      );
      return;
    }
    log(`tfjs-node not usable yet: ${state.reason}`);
  }
  const layout = layOutLibtensorflow(opts);
  installPackage();
  stageDeps(layout);
  buildAddon();
  const state = verify();
  if (!state.ok) throw new SetupError(`built, but loading @tensorflow/tfjs-node still fails: ${state.reason}`);
  log(
    `done: @tensorflow/tfjs-node ${TFJS_NODE_VERSION} uses backend=tensorflow, libtensorflow ${state.tfVersion} (${elapsed()})`,
  );
}

try {
  main();
} catch (err) {
  const msg = err instanceof SetupError ? err.message : `unexpected error: ${err?.stack ?? err}`;
  console.error(`[native-tf] ERROR: ${msg}`);
  if (process.argv.includes('--optional')) {
    console.error('[native-tf] continuing without it: pipeline will use the pure-JS backend (slow)');
  } else {
    process.exit(1);
  }
}
