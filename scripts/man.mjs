#!/usr/bin/env node
// Writes man/rpr.1 from the option catalog (dist/options/catalog.js, after tsc), the subcommand
// names and the examples the CLI prints, so the man page cannot fall behind the flags.
// `npm run build` runs it; package.json's "man" ships it.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const load = (file) => import(pathToFileURL(path.join(ROOT, 'dist', file)).href);
const { OPTIONS, OPTION_GROUPS } = await load('options/catalog.js');
const { CORE, CRON_NAMES } = await load('cli/names.js');
const { TOUR } = await load('cli/examples.js');
const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));

/** Text as roff reads it: backslashes and hyphens escaped, no line starting with a control character. */
const esc = (text) =>
  text
    .replaceAll('\\', '\\e')
    .replaceAll('-', '\\-')
    .replace(/^([.'])/, '\\&$1');
const flagsOf = (flags) => {
  const [names, arg] = flags.split(/ (?=<)/);
  return `.TP\n${names
    .split(', ')
    .map((n) => `\\fB${esc(n)}\\fR`)
    .join(', ')}${arg ? ` \\fI${esc(arg.slice(1, -1))}\\fR` : ''}`;
};

/** The bundled scheduler plugins, each a subcommand: name and description from its manifest. */
async function bundledSchedulers() {
  const dir = path.join(ROOT, 'plugins-dist');
  const found = [];
  for (const entry of (await readdir(dir)).sort()) {
    const toml = await readFile(path.join(dir, entry, 'plugin.toml'), 'utf8').catch(() => '');
    const field = (key) => new RegExp(`^${key} = "(.*)"$`, 'm').exec(toml)?.[1];
    if (field('kind') === 'scheduler' && field('name') !== 'http-aware') found.push({ name: field('name'), description: field('description') });
  }
  return found;
}

const out = [];
const line = (...parts) => out.push(...parts);
line(`.TH RPR 1 "" "rpr ${version}" "User Commands"`, '.SH NAME', 'rpr \\- run a command again and again on a schedule');
line('.SH SYNOPSIS', '.B rpr', `[\\fIglobal options\\fR] \\fIsubcommand\\fR [\\fIoptions\\fR] \\fB\\-\\-\\fR \\fIcommand\\fR [\\fIargs\\fR ...]`);
line('.br', '.B rpr run', '[\\fIname\\fR] [\\fIoptions\\fR]');
line('.br', '.B rpr', '\\fBconfig\\fR | \\fBplugins\\fR | \\fBcompletion\\fR | \\fBexamples\\fR ...');
line('.SH DESCRIPTION');
line(
  esc(
    "rpr runs a command on a schedule: drift-free intervals, a number of times, for a while, or at the times of a cron expression; advanced schedulers, executors and outputs are sandboxed WebAssembly plugins. The command's stdout and stderr pass through untouched; rpr's own lines go to stderr.",
  ),
);
line('.PP', esc('The command to repeat follows the first --, and is never read as options. Options of a subcommand may also stand before it (rpr --verbose count ... is rpr count --verbose ...).'));
line('.SH SUBCOMMANDS');
for (const { name, aliases, summary } of CORE) line(`.TP\n\\fB${[name, ...aliases].join('\\fR, \\fB')}\\fR`, esc(summary));
line(`.TP\n\\fB${CRON_NAMES.join('\\fR, \\fB')}\\fR`, esc('run at the times of a cron expression, in a time zone, DST-safe; --next N prints the next N times'));
line('.TP\n\\fBrun\\fR [\\fIname\\fR]', esc('run a job defined as [jobs.NAME] in the config file; without a name, list the jobs'));
line('.TP\n\\fBconfig check\\fR [\\fIfile\\fR], \\fBconfig show\\fR', esc('list every problem of a config file; print the settings in effect and where each came from'));
line('.TP\n\\fBplugins\\fR \\fIcommand\\fR', esc('list, info, install, update, remove, disable, enable, verify, new, validate, keygen, pubkey, sign'));
line('.TP\n\\fBcompletion\\fR \\fBbash\\fR|\\fBzsh\\fR|\\fBfish\\fR', esc('print a shell completion script, e.g. source <(rpr completion bash)'));
line('.TP\n\\fBexamples\\fR', esc('print a short, runnable tour of common jobs'));
line('.SS Scheduler plugins', esc('Each bundled scheduler plugin is a subcommand of its own, with flags from its settings (rpr NAME --help); so is each one installed.'));
for (const { name, description } of await bundledSchedulers()) line(`.TP\n\\fB${esc(name)}\\fR`, esc(description));
line('.SH OPTIONS', '.SS Global', '.TP\n\\fB\\-v\\fR, \\fB\\-\\-version\\fR', 'print the version (\\fB\\-v\\fR before a subcommand is \\fB\\-\\-verbose\\fR)');
line('.TP\n\\fB\\-\\-config\\fR \\fIfile\\fR', esc('config file (default $RPR_CONFIG, then ~/.config/rpr/config.toml); also accepted after the subcommand'));
line('.TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR', 'help for rpr or a subcommand');
for (const group of OPTION_GROUPS) {
  line(`.SS ${group[0].toUpperCase()}${group.slice(1)}`);
  for (const def of OPTIONS.filter((d) => d.group === group && !d.goCompat)) {
    const where = def.scope === 'all' ? '' : ` (${def.scope.join(', ')})`;
    const required = def.requiredFor ? ` Required by ${def.requiredFor.join(', ')}.` : '';
    line(flagsOf(def.flags), esc(`${def.description}${where}.${required}${def.choices ? ` One of: ${def.choices.join(', ')}.` : ''}`));
  }
  if (group === 'plugins') {
    line(flagsOf('--set <plugin.key=value>'), esc('a setting for a plugin (repeatable), beating its [plugins.NAME] table'));
    line(flagsOf('--allow <plugin=host:port>'), esc('let a plugin reach HOST:PORT for this job (repeatable), as network = [...] in [plugins.NAME.permissions] does'));
  }
}
line(
  '.SS Go rpr spellings',
  esc(
    `Accepted for old scripts, not shown in --help: ${OPTIONS.filter((d) => d.goCompat)
      .map((d) => d.flags.split(' <')[0])
      .join('; ')}; --tz for --timezone.`,
  ),
);
line('.SH EXIT STATUS', '.TP\n0', 'every run passed, or an until\\-condition was met', '.TP\n1', 'some run failed (one line on stderr says how many, unless \\fB\\-q\\fR)');
line('.TP\n2', 'usage or config error, or a command that does not exist', '.TP\n128+n', 'stopped by signal n (130 for Ctrl\\-C, 143 for SIGTERM)', '.TP\n141', "the reader of rpr's stdout went away");
line('.SH ENVIRONMENT', '.TP\n\\fBRPR_CONFIG\\fR', 'the config file, when \\fB\\-\\-config\\fR is not given');
line('.TP\n\\fBRPR_\\fR\\fIOPTION\\fR', esc('a default for an option that takes one (RPR_TIMEOUT=30s); flags beat it, it beats the config file'));
line('.TP\n\\fBRPR_PLUGIN_DIR\\fR', 'where installed plugins are (default ~/.repeater/plugins)');
line('.TP\n\\fBNO_COLOR\\fR, \\fBFORCE_COLOR\\fR, \\fBTERM\\fR', esc('colour and the status line: NO_COLOR turns colour off, FORCE_COLOR on, TERM=dumb gets neither'));
line('.TP\n\\fBRPR_DEBUG\\fR', 'set to 1 for stack traces with errors');
line('.SH FILES', '.TP\n\\fI~/.config/rpr/config.toml\\fR', esc('defaults, observability, plugins and named jobs (docs/configuration.md)'));
line('.SH EXAMPLES');
for (const [what, command] of TOUR) line('.PP', esc(what), '.RS', '.nf', esc(command), '.fi', '.RE');
line('.SH SEE ALSO', esc('README.md and docs/ in the package: configuration, cron, metrics, coordination, plugins, plugin-host.'));

await mkdir(path.join(ROOT, 'man'), { recursive: true });
await writeFile(path.join(ROOT, 'man', 'rpr.1'), `${out.join('\n')}\n`);
