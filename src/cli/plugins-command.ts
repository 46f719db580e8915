import type { Command } from 'commander';
import { registerSignCommands } from './plugins-sign-command.js';

/** The actions, loaded by the one that runs (plugins-actions.ts imports the plugin manager). */
const actions = (): Promise<typeof import('./plugins-actions.js')> => import('./plugins-actions.js');

const withConfig = (c: Command): Command => c.option('--config <file>', 'config file');

/** Examples for every `rpr plugins` command (keygen and sign carry theirs: plugins-sign-command.ts). */
const EXAMPLES: Record<string, string[]> = {
  list: ['rpr plugins list', "rpr plugins list --json | jq -r '.[].name'"],
  info: ['rpr plugins info webhook                 # settings, permissions in full, sha256'],
  install: [
    'rpr plugins install ./my-plugin           # a folder with plugin.toml',
    'rpr plugins install https://example.com/p.tar.gz --sha256 HEX --yes',
    'rpr plugins install webhook                # a copy of a bundled one, to customise',
  ],
  update: ['rpr plugins update my-plugin', 'rpr plugins update --all --yes'],
  remove: ['rpr plugins remove my-plugin'],
  disable: ['rpr plugins disable chaos                 # its subcommand then says it is disabled'],
  enable: ['rpr plugins enable chaos'],
  verify: ['rpr plugins verify                        # exit 1 if any file differs from plugins.lock'],
  new: ['rpr plugins new my-backoff --kind scheduler', 'rpr plugins new my-sink --kind output --lang rust --dir ./sink'],
  pubkey: ['rpr plugins pubkey --key ~/.rpr-signing-key.pem'],
  validate: ['rpr plugins validate ./my-backoff         # every problem, one a line'],
};

const examplesText = (lines: string[]): string => `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

/** `rpr plugins ...`: list, info, install, update, remove, disable, enable, verify, new, keygen, pubkey, sign, validate. */
export function registerPluginsCommand(program: Command): void {
  const plugins = program.command('plugins').description('list, inspect, install, update, verify and write plugins');

  withConfig(plugins.command('list'))
    .description('every plugin: name, version, kind, bundled or installed, enabled, permissions in brief')
    .option('--json', 'one JSON array, for scripts')
    .action(async (opts: { json?: boolean }, cmd: Command) => (await actions()).list(opts, cmd));

  withConfig(plugins.command('info'))
    .argument('<name>', 'a plugin name')
    .description('description, version, kind, ABI, config schema, permissions in full, sha256, where it came from')
    .action(async (name: string, opts: unknown, cmd: Command) => (await actions()).info(name, opts, cmd));

  withConfig(plugins.command('install'))
    .argument('<source>', 'a .wasm file, a folder with plugin.toml, a .tar.gz, an https:// URL, or the name of a bundled plugin (to customise a copy)')
    .description('install a plugin into your plugin folder, after showing the permissions it asks for')
    .option('-y, --yes', 'accept the permissions without asking (needed without a terminal)')
    .option('--sha256 <hex>', 'refuse unless the wasm has this sha256')
    .action(async (source: string, opts: { yes?: boolean; sha256?: string }, cmd: Command) => (await actions()).install(source, opts, cmd));

  withConfig(plugins.command('update'))
    .argument('[names...]', 'installed plugins to update')
    .description('update installed plugins from where they were installed from, showing permission changes')
    .option('--all', 'every installed plugin')
    .option('-y, --yes', 'accept wider permissions without asking (needed without a terminal)')
    .option('--sha256 <hex>', 'refuse unless the new wasm has this sha256 (and pin it)')
    .action(async (names: string[], opts: { all?: boolean; yes?: boolean; sha256?: string }, cmd: Command) => (await actions()).update(names, opts, cmd));

  withConfig(plugins.command('remove'))
    .alias('uninstall')
    .argument('<name>', 'an installed plugin')
    .description('remove an installed plugin (a bundled one it replaced is used again)')
    .action(async (name: string, opts: unknown, cmd: Command) => (await actions()).remove(name, opts, cmd));

  for (const [verb, on] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    withConfig(plugins.command(verb))
      .argument('<name>', 'a plugin, bundled or installed')
      .description(on ? 'turn a disabled plugin back on' : 'turn a plugin off without removing it (recorded in plugins.lock)')
      .action(async (name: string, _opts: unknown, cmd: Command) => (await actions()).toggle(name, on, cmd));
  }

  withConfig(plugins.command('verify'))
    .description('re-hash every plugin against plugins.lock and its manifest; exit 1 if anything differs')
    .action(async (opts: unknown, cmd: Command) => (await actions()).verify(opts, cmd));

  plugins
    .command('new')
    .argument('<name>', "the plugin's name (also its subcommand)")
    .description('create a plugin project that builds and passes its own test as generated')
    .requiredOption('--kind <kind>', 'scheduler, executor or output')
    // (manage/scaffold.ts checks the value against its LANGS.)
    .option('--lang <lang>', 'language: as or rust', 'as')
    .option('--dir <dir>', 'where to create it (default ./NAME)')
    .action(async (name: string, opts: { kind: string; lang: string; dir?: string }) => (await actions()).create(name, opts));

  registerSignCommands(plugins);

  plugins
    .command('validate')
    .argument('<path>', 'a plugin folder (plugin.toml + wasm), a plugin.toml, or a .wasm')
    .description('check a plugin against the contract in wit/: manifest, imports, exports, ABI, describe, schema; prints every problem')
    .action(async (target: string) => (await actions()).validate(target));

  for (const sub of plugins.commands) {
    const lines = EXAMPLES[sub.name()];
    if (lines) sub.addHelpText('after', examplesText(lines));
  }
  plugins.addHelpText('after', examplesText(['rpr plugins list', 'rpr plugins info fibonacci', 'rpr plugins install ./my-plugin']));
}
