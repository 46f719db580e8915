import type { Command } from 'commander';
import { findPlugins, problemOf, problemText } from '../app/load-plugins.js';
import { formatDefault } from './plugin-commands.js';
import { RprError } from '../errors/index.js';
import type { DiscoveredPlugin, Permissions } from '../plugins/index.js';
import { loadInvocationConfig } from './resolve-values.js';

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

const row = (p: DiscoveredPlugin): string[] => [p.manifest.name, p.manifest.version, p.manifest.kind, p.source, briefPermissions(p.manifest.permissions)];

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** `rpr plugins list` and `rpr plugins info NAME`. */
export function registerPluginsCommand(program: Command): void {
  const plugins = program.command('plugins').description('list and inspect plugins');
  plugins
    .command('list')
    .description('every plugin: name, version, kind, bundled or installed, permissions in brief')
    .option('--json', 'one JSON array, for scripts')
    .option('--config <file>', 'config file')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const config = await loadInvocationConfig(cmd);
      const discovery = await findPlugins(config?.plugins);
      const found = [...discovery.plugins.values()].sort((a, b) => a.manifest.kind.localeCompare(b.manifest.kind) || a.manifest.name.localeCompare(b.manifest.name));
      if (opts.json) {
        const list = found.map((p) => ({ name: p.manifest.name, version: p.manifest.version, kind: p.manifest.kind, source: p.source, description: p.manifest.description, permissions: p.manifest.permissions, sha256: p.manifest.sha256 }));
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      } else {
        process.stdout.write(table([['NAME', 'VERSION', 'KIND', 'SOURCE', 'PERMISSIONS'], ...found.map(row)]));
      }
      for (const problem of discovery.problems) process.stderr.write(`rpr: ${problemText(problem)}\n`);
    });
  plugins
    .command('info')
    .argument('<name>', 'a plugin name')
    .description('description, version, kind, ABI, config schema, permissions in full, sha256')
    .option('--config <file>', 'config file')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const config = await loadInvocationConfig(cmd);
      const discovery = await findPlugins(config?.plugins);
      const found = discovery.plugins.get(name);
      if (!found) {
        const broken = problemOf(discovery, name);
        throw new RprError('E_USAGE', broken ? `plugin "${name}" cannot be loaded: ${problemText(broken)}` : `no plugin "${name}"`, { hint: 'rpr plugins list shows them' });
      }
      const m = found.manifest;
      const lines = [
        `${m.name} ${m.version} (${m.kind}, ${found.source}${found.shadows ? `, replaces the bundled ${found.shadows.version}` : ''})`,
        m.description,
        `author:  ${m.author || '-'}`,
        `abi:     ${m.abi}`,
        `wasm:    ${m.wasm}`,
        `sha256:  ${m.sha256}`,
        'config:',
        ...Object.entries(m.config).map(([key, f]) => `  ${key} (${f.type}${f.default !== undefined ? `, default ${formatDefault(f)}` : ''}${f.aliases?.length ? `, also ${f.aliases.join(', ')}` : ''}): ${f.help}`),
        'permissions:',
        `  network:        ${m.permissions.network.join(', ') || 'none'}`,
        `  filesystem:     ${Object.entries(m.permissions.filesystem).map(([g, h]) => `${g} -> ${h}`).join(', ') || 'none'}`,
        `  exec:           ${m.permissions.exec.join(', ') || 'none'}`,
        `  host functions: ${m.permissions.hostFunctions.join(', ') || 'none'}`,
        `  memory:         ${m.permissions.memoryMb} MB, calls time out after ${m.permissions.timeoutMs} ms`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
