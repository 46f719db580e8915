/**
 * The actions of `rpr plugins ...` (registered in plugins-command.ts), loaded only when one runs:
 * the plugin manager and the plugin system are not needed to print the help or a usage error.
 */
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { problemOf, problemText } from '../app/find-plugins.js';
import { formatDefault } from './plugin-commands.js';
import { RprError } from '../errors/index.js';
import { printable } from '../errors/printable.js';
import type { LoadedConfig, PluginEntry } from '../config/types.js';
import { effectivePermissions, placementReason, type DiscoveredPlugin, type Permissions, type PluginKind } from '../plugins/index.js';
import { loadInvocationConfig } from './resolve-values.js';
import {
  discoverChecked,
  enabledState,
  installPlugin,
  manager,
  permissionLines,
  readLock,
  removePlugin,
  scaffold,
  setEnabled,
  updatePlugins,
  validatePlugin,
  verifyPlugins,
  type LockEntry,
  type ManageIO,
  type Manager,
  type PluginLang,
} from '../manage/index.js';
import { packageFile } from '../package-files.js';

/** Permissions in a few words: what a user must know before trusting a plugin. */
export function briefPermissions(p: Permissions): string {
  const parts = [
    p.network.length ? `net ${p.network.join(' ')}` : '',
    Object.keys(p.filesystem).length ? `fs ${Object.keys(p.filesystem).join(' ')}` : '',
    p.exec.length ? `exec ${p.exec.join(' ')}` : '',
    p.hostFunctions.length ? `host ${p.hostFunctions.join(' ')}` : '',
  ].filter(Boolean);
  return parts.join('; ') || 'none';
}

/** bundled, installed (through rpr plugins install: in plugins.lock), or user (copied in by hand). */
const sourceOf = (p: DiscoveredPlugin, entry: LockEntry | undefined): string => (p.source === 'bundled' ? 'bundled' : entry ? 'installed' : 'user');

/** Where its instances run with the permissions it would get here (its manifest's and the config's grants). */
function runsWhere(manifest: DiscoveredPlugin['manifest'], entry: PluginEntry | undefined): string {
  const user = { ...(entry?.permissions ? { grant: entry.permissions } : {}), ...(entry?.narrow ? { narrow: entry.narrow } : {}) };
  return placementReason(manifest.kind, effectivePermissions(manifest.permissions, user), process.env.RPR_PLUGIN_WORKER === '1').why;
}

/**
 * Plugin text (names, descriptions, paths from a manifest or a wasm's describe()) reaches the
 * terminal only through these, escaped: see errors/printable.ts.
 */
const say = (line: string): void => void process.stdout.write(`${printable(line)}\n`);
const warn = (line: string): void => void process.stderr.write(`${printable(line)}\n`);

function table(cells: string[][]): string {
  const rows = cells.map((r) => r.map(printable));
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n')}\n`;
}

/** Asks on the terminal; without one (and without --yes) refuses with exit 2. */
function terminalIO(yes: boolean): ManageIO {
  return {
    out: (line) => say(line),
    note: (line) => warn(line),
    async confirm(question) {
      if (yes) return;
      if (!process.stdin.isTTY) {
        throw new RprError('E_USAGE', `${question.replace(/\?$/, '')}: not confirmed (no terminal to ask on), nothing was changed`, {
          hint: 'read the permissions above; run it again with --yes to accept them',
        });
      }
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
        if (answer !== 'y' && answer !== 'yes') throw new RprError('E_USAGE', 'cancelled, nothing was changed');
      } finally {
        rl.close();
      }
    },
  };
}

async function managerFor(cmd: Command, yes = false): Promise<{ m: Manager; config: LoadedConfig | null }> {
  const config = await loadInvocationConfig(cmd);
  return { m: manager(config?.plugins, terminalIO(yes)), config };
}

export async function list(opts: { json?: boolean }, cmd: Command): Promise<void> {
  const { m, config } = await managerFor(cmd);
  const discovery = await discoverChecked(config?.plugins, { includeDisabled: true, verifyFiles: true });
  const lock = await readLock(m.dir).catch(() => null);
  const enabled = await enabledState(m);
  const found = [...discovery.plugins.values()].sort((a, b) => a.manifest.kind.localeCompare(b.manifest.kind) || a.manifest.name.localeCompare(b.manifest.name));
  if (opts.json) {
    const list = found.map((p) => {
      const entry = p.source === 'user' ? lock?.plugins[p.manifest.name] : undefined;
      return {
        name: p.manifest.name,
        version: p.manifest.version,
        kind: p.manifest.kind,
        source: sourceOf(p, entry),
        enabled: enabled(p.manifest.name),
        description: p.manifest.description,
        permissions: p.manifest.permissions,
        sha256: p.manifest.sha256,
        dir: p.manifest.dir,
        ...(entry
          ? { installed_from: entry.source, installed_at: entry.installed_at, ...(entry.pinned ? { pinned: entry.pinned } : {}), ...(entry.signed_by ? { signed_by: entry.signed_by } : {}) }
          : {}),
        ...(p.shadows ? { replaces_bundled: p.shadows.version } : {}),
      };
    });
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
  } else {
    const rows = found.map((p) => [
      p.manifest.name,
      p.manifest.version,
      p.manifest.kind,
      sourceOf(p, lock?.plugins[p.manifest.name]),
      enabled(p.manifest.name) ? 'yes' : 'no',
      briefPermissions(p.manifest.permissions),
    ]);
    process.stdout.write(table([['NAME', 'VERSION', 'KIND', 'SOURCE', 'ENABLED', 'PERMISSIONS'], ...rows]));
  }
  for (const problem of discovery.problems) warn(`rpr: ${problemText(problem)}`);
}

export async function info(name: string, _opts: unknown, cmd: Command): Promise<void> {
  const { m, config } = await managerFor(cmd);
  const discovery = await discoverChecked(config?.plugins, { includeDisabled: true, verifyFiles: true });
  const found = discovery.plugins.get(name);
  if (!found) {
    const broken = problemOf(discovery, name);
    throw new RprError('E_USAGE', broken ? `plugin "${name}" cannot be loaded: ${problemText(broken)}` : `no plugin "${name}"`, { hint: 'rpr plugins list shows them' });
  }
  const entry = found.source === 'user' ? (await readLock(m.dir).catch(() => null))?.plugins[name] : undefined;
  const on = (await enabledState(m))(name);
  const m_ = found.manifest;
  const origin =
    found.source === 'bundled'
      ? 'bundled with rpr'
      : entry
        ? `installed from ${entry.source} (${entry.source_type}) on ${entry.installed_at}`
        : `copied into ${m_.dir} by hand (not in plugins.lock: not pinned)`;
  const lockLine =
    found.source === 'bundled'
      ? 'part of rpr'
      : entry
        ? `plugins.lock pins sha256 ${entry.sha256}${entry.pinned ? ' (pinned with --sha256 at install)' : ''}${entry.signed_by ? `; signed by ${entry.signed_by}` : ''}`
        : 'none';
  const lines = [
    `${m_.name} ${m_.version} (${m_.kind}, ${sourceOf(found, entry)}${found.shadows ? `, replaces the bundled ${found.shadows.version}` : ''})${on ? '' : ' - disabled'}`,
    m_.description,
    `author:  ${m_.author || '-'}`,
    `abi:     ${m_.abi}`,
    `wasm:    ${m_.wasm}`,
    `sha256:  ${m_.sha256}`,
    `source:  ${origin}`,
    `lock:    ${lockLine}`,
    `runs:    ${runsWhere(m_, config?.plugins?.entries[name])}`,
    'config:',
    ...Object.entries(m_.config).map(
      ([key, f]) => `  ${key} (${f.type}${f.default !== undefined ? `, default ${formatDefault(f)}` : ''}${f.aliases?.length ? `, also ${f.aliases.join(', ')}` : ''}): ${f.help}`,
    ),
    'permissions:',
    ...permissionLines(m_.permissions),
  ];
  for (const line of lines) say(line);
}

export async function install(source: string, opts: { yes?: boolean; sha256?: string }, cmd: Command): Promise<void> {
  const { m } = await managerFor(cmd, opts.yes === true);
  await installPlugin(m, source, opts.sha256 ? { sha256: opts.sha256 } : {});
}

export async function update(names: string[], opts: { all?: boolean; yes?: boolean; sha256?: string }, cmd: Command): Promise<void> {
  const { m } = await managerFor(cmd, opts.yes === true);
  await updatePlugins(m, names, { all: opts.all === true, ...(opts.sha256 ? { sha256: opts.sha256 } : {}) });
}

export async function remove(name: string, _opts: unknown, cmd: Command): Promise<void> {
  const { m } = await managerFor(cmd);
  await removePlugin(m, name);
}

export async function verify(_opts: unknown, cmd: Command): Promise<void> {
  const { m } = await managerFor(cmd);
  const lines = await verifyPlugins(m);
  for (const line of lines) say(`${line.ok ? 'ok     ' : 'FAILED '} ${line.text}`);
  const bad = lines.filter((l) => !l.ok);
  if (bad.length)
    throw new RprError('E_PLUGIN', `verify: ${bad.length} of ${lines.length} plugins differ from what was installed: ${bad.map((l) => l.name).join(', ')}`, {
      hint: 'rpr plugins update NAME reinstalls one from its source',
    });
  process.stdout.write(`${lines.length} plugins verified\n`);
}

export async function create(name: string, opts: { kind: string; lang: string; dir?: string }): Promise<void> {
  const dir = path.resolve(opts.dir ?? name);
  const files = await scaffold({ name, kind: opts.kind as PluginKind, lang: opts.lang as PluginLang, dir });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`created ${opts.kind} plugin "${name}" (${opts.lang === 'rust' ? 'Rust' : 'AssemblyScript'}) in ${dir}:`);
  for (const file of files) out(`  ${file}`);
  out('next:');
  out(`  cd ${path.relative(process.cwd(), dir) || '.'}`);
  if (opts.lang === 'as') out('  npm install             # assemblyscript (or it uses the one next to this rpr, if there is one)');
  out('  node test.mjs           # builds dist/, validates, installs into a temporary folder, runs a job');
  out('  rpr plugins install dist');
}

export async function validate(target: string): Promise<void> {
  const result = await validatePlugin(target);
  for (const note of result.notes) say(`note: ${note}`);
  for (const problem of result.problems) say(`problem: ${problem}`);
  if (result.problems.length)
    throw new RprError('E_PLUGIN', `validate: ${result.subject}: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}`, {
      hint: `see ${packageFile('wit/rpr-plugin.wit')} and ${packageFile('docs/plugins.md')}`,
    });
  say(`${result.subject}: ok`);
}

export async function toggle(name: string, on: boolean, cmd: Command): Promise<void> {
  const { m } = await managerFor(cmd);
  await setEnabled(m, name, on);
}
