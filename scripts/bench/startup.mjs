// Start-up (issue 14): whole processes, each next to its baseline in the same rounds (A B A B ...),
// ratios and differences taken round by round.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ENV, interleaved, log, median, ms, NODE, pairedDifference, pairedRatio, REPEAT, ROOT, row, RPR } from './common.mjs';

export function startup(tmp) {
  log('start-up');
  const rpr = (...args) => [NODE, [RPR, ...args]];
  // Floors, each a CommonJS file as rpr's bundle is (Node's ES module loader would add some 8 ms):
  // a file that prints a line (what --version cannot go below), a commander program with one
  // subcommand of 60 options parsing a line (what any commander CLI pays before its own work), the
  // same printing fibonacci's help (what any commander CLI pays to print it), and Node starting one
  // process and waiting for it (what any 1-run job started from Node pays).
  const printer = path.join(tmp, 'print.cjs');
  writeFileSync(printer, "process.stdout.write('rpr 0.0.0\\n');\n");
  const resolve = createRequire(import.meta.url).resolve;
  const commanderPath = JSON.stringify(resolve('commander'));
  const commander = path.join(tmp, 'commander.cjs');
  writeFileSync(
    commander,
    [
      `const { Command, Option } = require(${commanderPath});`,
      "const program = new Command('x').exitOverride();",
      "const count = program.command('count').action(() => undefined);",
      'for (let i = 0; i < 60; i++) count.addOption(new Option(`--option-${i} <value>`, `option ${i}`).argParser((v) => v));',
      "program.parse(['count', '--option-1', 'a'], { from: 'user' });",
      '',
    ].join('\n'),
  );
  const helpFloor = path.join(tmp, 'help.cjs');
  const help = helpAsCommander(spawnSync(NODE, [RPR, 'fibonacci', '--help'], { env: ENV, encoding: 'utf8' }).stdout, commanderPath);
  writeFileSync(helpFloor, help.script);
  // The plugin floor: what any host pays to run fibonacci under Extism with the hash check rpr
  // makes, and nothing of rpr. The SDK's CommonJS build, required by its name from the project, as
  // rpr's bundle requires it (an import() would add the ES module loader; a path would skip the
  // resolution of the package's exports, some 3 ms of Node's own modules that any host pays).
  const extism = path.join(tmp, 'extism.cjs');
  writeFileSync(
    extism,
    [
      "const { createHash } = require('node:crypto');",
      "const { readFileSync } = require('node:fs');",
      `const sdk = require('node:module').createRequire(${JSON.stringify(path.join(ROOT, 'package.json'))})('@extism/extism');`,
      `const bytes = readFileSync(${JSON.stringify(path.join(ROOT, 'plugins-dist/fibonacci/plugin.wasm'))});`,
      "createHash('sha256').update(bytes).digest('hex');",
      'void (async () => {',
      '  const module = await WebAssembly.compile(bytes);',
      '  const plugin = await sdk.createPlugin(module, { useWasi: false, runInWorker: false });',
      "  await plugin.call('describe', '');",
      '})();',
      '',
    ].join('\n'),
  );
  const t = interleaved(
    {
      node: [NODE, ['-e', '0']],
      printer: [NODE, [printer]],
      commander: [NODE, [commander]],
      helpFloor: [NODE, [helpFloor]],
      spawner: [NODE, ['-e', "require('node:child_process').spawnSync('true')"]],
      extism: [NODE, ['--no-warnings', extism]],
      version: rpr('--version'),
      coreJob: rpr('count', '--times', '1', '--', 'true'),
      coreHelp: rpr('count', '--help'),
      pluginHelp: rpr('fibonacci', '--help'),
      pluginJob: rpr('fibonacci', '--times', '1', '--', 'true'),
    },
    Math.max(25, REPEAT * 8),
  );
  const m = Object.fromEntries(Object.entries(t).map(([k, xs]) => [k, median(xs)]));
  const times = (x) => `${x.toFixed(2)}x`;
  const plus = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(1)} ms`;

  row('Start-up', 'floor: a file that prints one line (`node print.cjs`)', ms(m.printer, 1), `${ms(m.node, 1)} (\`node -e 0\`)`, { ratio: times(pairedRatio(t.printer, t.node)) });
  row('Start-up', 'floor: a commander program parsing one subcommand of 60 options', ms(m.commander, 1), `${ms(m.node, 1)} (\`node -e 0\`)`, { ratio: times(pairedRatio(t.commander, t.node)) });
  row('Start-up', 'floor: Node starting one process and waiting for it (`node -e "spawnSync(\'true\')"`)', ms(m.spawner, 1), `${ms(m.node, 1)} (\`node -e 0\`)`, {
    ratio: times(pairedRatio(t.spawner, t.node)),
  });
  const version = pairedRatio(t.version, t.node);
  row('Start-up', '`rpr --version`', ms(m.version, 1), `${ms(m.node, 1)} (\`node -e 0\`)`, { ratio: times(version), target: '<= 1.3x', met: version <= 1.3 });
  const job = pairedRatio(t.coreJob, t.node);
  row('Start-up', 'a 1-run job, `rpr count --times 1 -- true` (start-up, the launcher, one run, the end of the job)', ms(m.coreJob, 1), `${ms(m.node, 1)} (\`node -e 0\`)`, {
    ratio: times(job),
    target: '<= 1.8x',
    met: job <= 1.8,
  });
  const helpVsVersion = pairedDifference(t.pluginHelp, t.version);
  row('Start-up', '`rpr fibonacci --help` (the CLI built, the plugin found in the bundled manifest index)', ms(m.pluginHelp, 1), `${ms(m.version, 1)} (\`rpr --version\`)`, {
    ratio: plus(helpVsVersion),
    target: '<= +10 ms',
    met: helpVsVersion <= 10,
    note: '`rpr --version` answers without loading the CLI, so this difference is mostly the CLI itself: see the next row',
  });
  row(
    'Start-up',
    `floor: a commander program printing the same help (its ${help.options} options, descriptions and headings; nothing of rpr)`,
    ms(m.helpFloor, 1),
    `${ms(m.printer, 1)} (\`node print.cjs\`)`,
    {
      ratio: plus(pairedDifference(t.helpFloor, t.printer)),
    },
  );
  const helpVsHelp = pairedDifference(t.pluginHelp, t.coreHelp);
  // The plugin system's share of the row above (finding the plugin, its subcommand from the
  // manifest, discovery's chunk): a figure to follow, not one of issue 14's targets.
  row('Start-up', '`rpr fibonacci --help`, against the same CLI without plugins', ms(m.pluginHelp, 1), `${ms(m.coreHelp, 1)} (\`rpr count --help\`)`, {
    ratio: plus(helpVsHelp),
  });
  row(
    'Start-up',
    "floor: Extism alone (a Node script that loads @extism/extism, reads, hashes and compiles fibonacci's wasm and calls one export)",
    ms(m.extism, 1),
    `${ms(m.node, 1)} (\`node -e 0\`)`,
    {
      ratio: plus(pairedDifference(t.extism, t.node)),
    },
  );
  const pluginJob = pairedDifference(t.pluginJob, t.coreJob);
  row(
    'Start-up',
    'a 1-run job with a scheduler plugin, `rpr fibonacci --times 1 -- true` (wasm compiled, instance started, one `next`)',
    ms(m.pluginJob, 1),
    `${ms(m.coreJob, 1)} (\`rpr count --times 1 -- true\`)`,
    {
      ratio: plus(pluginJob),
      target: '<= +25 ms',
      met: pluginJob <= 25,
    },
  );
}

/**
 * `rpr fibonacci --help`'s options (flags, description, heading) as a bare commander program that
 * prints the same help: what printing it costs any commander CLI.
 */
function helpAsCommander(text, commanderPath) {
  const options = [];
  let heading = 'Options';
  let last;
  for (const line of text.split('\n')) {
    if (/^\S.*:$/.test(line)) heading = line.slice(0, -1);
    const option = /^ {2}(-\S.*?)(?: {2,}(.*))?$/.exec(line);
    if (option && !/^-h, --help/.test(option[1])) options.push((last = [option[1].trim(), option[2] ?? '', heading]));
    else if (last && /^ {10,}\S/.test(line)) last[1] += ` ${line.trim()}`;
    else last = undefined;
  }
  if (options.length < 10) throw new Error(`rpr fibonacci --help: found ${options.length} options`);
  const script = [
    `const { Command, Option } = require(${commanderPath});`,
    "const program = new Command('rpr').exitOverride();",
    "const sub = program.command('fibonacci').alias('fib').argument('[command...]').action(() => undefined);",
    `sub.description(${JSON.stringify((text.split('\n\n')[1] ?? '').replace(/\n/g, ' '))});`,
    `for (const [flags, description, heading] of ${JSON.stringify(options)}) sub.addOption(new Option(flags, description).helpGroup(heading));`,
    "try { program.parse(['fibonacci', '--help'], { from: 'user' }); } catch {}",
    '',
  ].join('\n');
  return { script, options: options.length };
}
