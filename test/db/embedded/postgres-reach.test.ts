import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// CommonJS helpers shared with the ESM server starter (src/db/embedded/postgres-server.mjs).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const reach = require('../../../src/db/embedded/postgres-reach.cjs');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const staging = require('../../../src/db/embedded/postgres-staging.cjs');

/** A user that owns nothing here and is in none of its groups: only the "others" bits apply. */
const stranger = { name: 'postgres', uid: 2_000_000_001, gids: [2_000_000_001] };

let base: string;
beforeEach(() => {
  base = mkdtempSync(path.join(os.tmpdir(), 'aw-reach-'));
  chmodSync(base, 0o755);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

function dir(relative: string, mode: number): string {
  const full = path.join(base, relative);
  mkdirSync(full, { recursive: true });
  chmodSync(full, mode);
  return full;
}

describe('firstBlockedDirectory', () => {
  test('names the chmod 700 directory that hides a checkout from another user', () => {
    const checkout = dir('private', 0o700);
    const binaries = dir('private/aw/node_modules/bin', 0o755);
    expect(reach.firstBlockedDirectory(binaries, stranger)).toBe(checkout);
  });

  test('a world-traversable path (mode 711 is enough) is reachable', () => {
    dir('shared', 0o711);
    const binaries = dir('shared/aw/node_modules/bin', 0o755);
    expect(reach.firstBlockedDirectory(binaries, stranger)).toBeUndefined();
  });

  test('the owner bits apply to the owner, the group bits to a member of the group', () => {
    const ownerOnly = dir('owner', 0o700);
    const groupOnly = dir('group', 0o710);
    const me = { name: 'me', uid: process.getuid!(), gids: [] };
    const member = { ...stranger, gids: [statSync(groupOnly).gid] };
    expect(reach.firstBlockedDirectory(ownerOnly, me)).toBeUndefined();
    expect(reach.firstBlockedDirectory(groupOnly, member)).toBeUndefined();
    expect(reach.firstBlockedDirectory(groupOnly, stranger)).toBe(groupOnly);
  });
});

describe('serverUser', () => {
  test('not root: the server runs as the current user, nothing to check', () => {
    expect(reach.serverUser(1000, () => stranger)).toBeNull();
  });

  test('root: the postgres user, or one still to be created that only the "others" bits admit', () => {
    expect(reach.serverUser(0, () => stranger)).toBe(stranger);
    expect(reach.serverUser(0, () => undefined)).toEqual({ name: 'postgres', uid: undefined, gids: [] });
  });
});

describe('assertScratchReachable', () => {
  test('stops with one line naming the blocked directory and what to do', () => {
    const scratch = dir('locked/tmp', 0o755);
    chmodSync(path.dirname(scratch), 0o700);
    expect(() => reach.assertScratchReachable(scratch, stranger)).toThrow(
      new reach.PostgresUnavailable(
        `The embedded PostgreSQL runs as user 'postgres' (it refuses root), which cannot enter ` +
          `${path.join(base, 'locked')}: ` +
          'set TMPDIR to a directory that user can reach (such as /tmp), or set DATABASE_URL to a running server.',
      ),
    );
  });

  test('passes a reachable directory, and anything when the server runs as the current user', () => {
    expect(() => reach.assertScratchReachable(dir('open', 0o755), stranger)).not.toThrow();
    expect(() => reach.assertScratchReachable(dir('closed', 0o700), null)).not.toThrow();
  });
});

describe('staging', () => {
  test('shareTree makes every file readable by others, keeps executables executable and symlinks as they are', () => {
    const src = dir('src', 0o700);
    writeFileSync(path.join(src, 'private.so'), 'x', { mode: 0o600 });
    writeFileSync(path.join(src, 'initdb'), 'x', { mode: 0o700 });
    writeFileSync(path.join(src, 'public.so'), 'x', { mode: 0o644 });
    symlinkSync('private.so', path.join(src, 'private.so.1'));
    const dst = path.join(base, 'dst');
    staging.shareTree(src, dst);
    expect(statSync(dst).mode & 0o777).toBe(0o755);
    expect(statSync(path.join(dst, 'private.so')).mode & 0o777).toBe(0o644);
    expect(statSync(path.join(dst, 'initdb')).mode & 0o777).toBe(0o755);
    expect(readlinkSync(path.join(dst, 'private.so.1'))).toBe('private.so');
    // Already world-readable: a hard link, not a copy; the private originals are untouched.
    expect(statSync(path.join(dst, 'public.so')).ino).toBe(statSync(path.join(src, 'public.so')).ino);
    expect(statSync(path.join(src, 'private.so')).mode & 0o777).toBe(0o600);
  });

  test('the staged binaries are reachable by another user, and remove() deletes the copy', () => {
    const staged = staging.stageEmbeddedPostgres(dir('scratch', 0o755));
    try {
      const initdb = path.join(staged.binariesDir, 'native', 'bin', 'initdb');
      expect(reach.firstBlockedDirectory(path.dirname(initdb), stranger)).toBeUndefined();
      expect(statSync(initdb).mode & 0o005).toBe(0o005);
      expect(staged.entry.startsWith(path.join(base, 'scratch'))).toBe(true);
      expect(lstatSync(path.join(path.dirname(staged.binariesDir), '..', 'pg')).isSymbolicLink()).toBe(true);
    } finally {
      staged.remove();
    }
    expect(existsSync(path.dirname(path.dirname(staged.entry)))).toBe(false);
  });
});
