/**
 * The plugin directory's own records: `plugins.lock` (JSON: what was installed, from where, with which
 * sha256) and `plugins.lock.busy`, the mutex two rpr processes take before changing anything.
 *
 * - The lock file is only ever replaced whole: written to a temporary file beside it, flushed, then
 *   renamed over it. A reader (every plugin load) sees the old file or the new one, never half.
 * - Every read-modify-write happens under the mutex, a file created with O_EXCL holding the owner's
 *   pid. A mutex whose owner is gone (same host, pid not alive) or that is older than STALE_MS is
 *   taken over: renamed away first, so that two processes breaking the same stale mutex cannot both
 *   believe they own the next one.
 */
// fs.promises is loaded on first use (some 2 ms), by what installs or changes plugins: readLock,
// which every plugin discovery calls (`rpr fibonacci --help` too), reads with node:fs's callback.
import { constants, promises as fs, readFile } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { RprError } from '../errors/index.js';
import { nodeCrypto } from '../plugins/node-crypto.js';
import type { PinnedPermissions } from '../plugins/index.js';

export const LOCK_FILE = 'plugins.lock';
export const MUTEX_FILE = 'plugins.lock.busy';
/** Folder (inside the plugin directory) holding the installed versions; NAME is a symlink into it. */
export const STORE_DIR = '.store';
const LOCK_VERSION = 1;
/** A mutex older than this is stale even if its pid looks alive (pids are reused). */
const STALE_MS = 10 * 60_000;
/** How long to wait for another rpr's install before giving up. */
const WAIT_MS = 60_000;

export type SourceType = 'file' | 'folder' | 'url' | 'bundled';

export interface LockEntry {
  version: string;
  kind: string;
  /** sha256 of the .wasm as installed: every load compares the file with this. */
  sha256: string;
  /** sha256 of the plugin.toml as installed (edits to anything but [permissions] are the user's customisation). */
  manifest_sha256?: string;
  /** The permissions the user agreed to at install (plugins/manifest/pin.ts); a manifest asking for others is refused. */
  permissions?: PinnedPermissions;
  /** Where it came from, as `update` needs it: an absolute path, a URL, or bundled:NAME. */
  source: string;
  source_type: SourceType;
  /** The --sha256 the user pinned at install; update refuses other content unless given a new pin. */
  pinned?: string;
  /** The trusted key that signed this wasm at install (ed25519:BASE64), if any. */
  signed_by?: string;
  installed_at: string;
  /** The version's folder, relative to the plugin directory (NAME is a symlink to it). */
  store: string;
}

export interface LockFile {
  lockfile_version: number;
  plugins: Record<string, LockEntry>;
  /** Plugins turned off with `rpr plugins disable` (bundled or installed). */
  disabled: string[];
}

export const emptyLock = (): LockFile => ({ lockfile_version: LOCK_VERSION, plugins: {}, disabled: [] });

class LockFileError extends RprError {
  constructor(file: string, reason: string) {
    super('E_PLUGIN', `${file}: ${reason}`, { hint: 'rpr plugins verify reports what is installed; restore the file from a backup or reinstall the plugins' });
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const readText = promisify(readFile);

/** The lock file of `dir`, or null when there is none (nothing was installed through rpr). */
export async function readLock(dir: string): Promise<LockFile | null> {
  const file = path.join(dir, LOCK_FILE);
  let text: string;
  try {
    text = await readText(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new LockFileError(file, `cannot read: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new LockFileError(file, 'is not JSON');
  }
  if (!isObj(doc) || doc.lockfile_version !== LOCK_VERSION || !isObj(doc.plugins)) {
    throw new LockFileError(file, `is not an rpr plugins.lock (version ${LOCK_VERSION})`);
  }
  const plugins: Record<string, LockEntry> = {};
  for (const [name, entry] of Object.entries(doc.plugins)) {
    if (!isObj(entry) || typeof entry.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(entry.sha256) || typeof entry.source !== 'string' || typeof entry.store !== 'string') {
      throw new LockFileError(file, `entry "${name}" is malformed (needs sha256, source, store)`);
    }
    if (entry.permissions !== undefined && !isObj(entry.permissions)) throw new LockFileError(file, `entry "${name}": permissions must be an object`);
    plugins[name] = entry as unknown as LockEntry;
  }
  const disabled = Array.isArray(doc.disabled) ? doc.disabled.filter((n): n is string => typeof n === 'string') : [];
  return { lockfile_version: LOCK_VERSION, plugins, disabled };
}

/** Writes a file whole: temporary file beside it, fsync, rename. */
async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${nodeCrypto().randomBytes(4).toString('hex')}`;
  const handle = await fs.open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.unlink(tmp).catch(() => {});
    throw error;
  }
}

/** Replaces the lock file (call under the mutex). */
export async function writeLock(dir: string, lock: LockFile): Promise<void> {
  const sorted: LockFile = {
    lockfile_version: LOCK_VERSION,
    plugins: Object.fromEntries(Object.entries(lock.plugins).sort(([a], [b]) => a.localeCompare(b))),
    disabled: [...new Set(lock.disabled)].sort(),
  };
  await writeFileAtomic(path.join(dir, LOCK_FILE), `${JSON.stringify(sorted, null, 2)}\n`);
}

interface MutexOwner {
  pid: number;
  host: string;
  started: number;
  token: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why the mutex in `text` (created `mtimeMs`) may be taken over, or null while its owner may still work. */
function staleReason(text: string, mtimeMs: number, now: number): string | null {
  let owner: MutexOwner | undefined;
  try {
    owner = JSON.parse(text) as MutexOwner;
  } catch {
    // Created but not written yet, or a crash right between the two: stale once it is old.
    return now - mtimeMs > 5_000 ? 'unreadable and older than 5 s' : null;
  }
  if (now - owner.started > STALE_MS) return `older than ${STALE_MS / 60_000} minutes`;
  if (owner.host === os.hostname() && !pidAlive(owner.pid)) return `its process ${owner.pid} is gone`;
  return null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True while another process holds the mutex of `dir`. */
export async function mutexBusy(dir: string): Promise<boolean> {
  const file = path.join(dir, MUTEX_FILE);
  try {
    const [text, info] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
    return staleReason(text, info.mtimeMs, Date.now()) === null;
  } catch {
    return false;
  }
}

/** Waits (up to `ms`) until nobody holds the mutex of `dir`. */
export async function waitUntilFree(dir: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && (await mutexBusy(dir))) await sleep(25);
}

/**
 * Runs `fn` holding the plugin directory's mutex. `onWait` is told once if another process holds it.
 * Throws if it cannot be had within WAIT_MS.
 */
export async function withMutex<T>(dir: string, fn: () => Promise<T>, onWait?: (owner: string) => void, waitMs = WAIT_MS): Promise<T> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, MUTEX_FILE);
  const me: MutexOwner = { pid: process.pid, host: os.hostname(), started: Date.now(), token: nodeCrypto().randomBytes(8).toString('hex') };
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      const handle = await fs.open(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
      try {
        await handle.writeFile(JSON.stringify(me));
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let text: string;
    let mtimeMs: number;
    try {
      [text, mtimeMs] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file).then((s) => s.mtimeMs)]);
    } catch {
      continue; // released while we looked
    }
    if (staleReason(text, mtimeMs, Date.now()) !== null) {
      // Rename, then make sure what we moved is the stale mutex we judged, not a fresh one.
      const aside = `${file}.stale-${me.token}`;
      try {
        await fs.rename(file, aside);
      } catch {
        continue;
      }
      const moved = await fs.readFile(aside, 'utf8').catch(() => '');
      if (moved !== text) await fs.link(aside, file).catch(() => {}); // someone else's live mutex: put it back
      await fs.unlink(aside).catch(() => {});
      continue;
    }
    if (Date.now() > deadline) {
      throw new RprError('E_PLUGIN', `another rpr is changing the plugins in ${dir} (${text.slice(0, 120)})`, { hint: `try again later; if no rpr is running, remove ${file}` });
    }
    if (!told && onWait) {
      told = true;
      onWait(text);
    }
    await sleep(30 + Math.random() * 50);
  }
  try {
    return await fn();
  } finally {
    const now = await fs.readFile(file, 'utf8').catch(() => '');
    if (now === JSON.stringify(me)) await fs.unlink(file).catch(() => {});
  }
}
