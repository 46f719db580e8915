import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfigFile, loadConfigFile } from '../../src/config/load.js';
import { RprError } from '../../src/errors/index.js';

const root = mkdtempSync(join(tmpdir(), 'rpr-config-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** Writes `lines` to a fresh temp file and returns its path. */
function file(...lines: string[]): string {
  const path = join(root, `c${n++}.toml`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const NOW = new Date(2027, 0, 15, 8, 0, 0).getTime();
const load = (path: string) => loadConfigFile(path, { nowWall: NOW });

/** The error loading `lines` throws, with the file name replaced by FILE. */
function firstError(...lines: string[]): { message: string; hint: string | undefined } {
  const path = file(...lines);
  try {
    load(path);
  } catch (error) {
    expect(error).toBeInstanceOf(RprError);
    expect((error as RprError).code).toBe('E_CONFIG');
    return { message: (error as RprError).message.replace(path, 'FILE'), hint: (error as RprError).hint };
  }
  throw new Error('expected the file to be rejected');
}

describe('loading a valid file', () => {
  const path = file(
    '# every section, every kind of value',
    '[defaults]',
    'timeout = "30s"',
    'kill_after = "2s"',
    'on_overlap = "kill"',
    'jitter = "1.5s"',
    'max_parallel = 8',
    'max_failures = 3',
    'quiet = true',
    'progress = false',
    'prefix = "[{run}] "',
    'timezone = "Europe/Berlin"',
    'catch_up = true',
    'case_insensitive = true',
    '',
    '[observability]',
    'health_port = 8080',
    'health_addr = "0.0.0.0"',
    'metrics_port = 9090',
    '',
    '[plugins]',
    'dir = "/opt/rpr/plugins"',
    'require_signed = true',
    'trusted_keys = ["ed25519:abc"]',
    'enabled = ["webhook"]',
    'disabled = []',
    '',
    '[plugins.webhook]',
    'url = "http://127.0.0.1:9/hook"',
    'retries = 3',
    'since = 2027-01-01T00:00:00Z',
    '',
    '[plugins.webhook.permissions]',
    'network = ["127.0.0.1:9"]',
    'filesystem = { "/data" = "/var/lib/rpr" }',
    'exec = ["curl"]',
    'host_functions = ["time"]',
    'memory_mb = 16',
    'timeout_ms = 500',
    '',
    '[jobs.backup]',
    'schedule = "interval"',
    'every = "1h"',
    'command = ["tar", "czf", "/tmp/b.tgz", "/data"]',
    'timeout = "10m"',
    'until_match = "(?i)done"',
    'start_at = 09:30:00',
    '',
    '[jobs.nightly]',
    'schedule = "cron"',
    'cron = "0 3 * * *"',
    'timezone = "UTC"',
    'command = "pg_dump db | gzip > /tmp/db.gz"',
    '',
    '[jobs.fib]',
    'schedule = "fibonacci"',
    'command = ["curl", "-f", "http://x"]',
    'times = 10',
    'initial = "1s"',
    'max = { cap = "5m" }',
    '',
    '[jobs.short]',
    'schedule = "c"',
    'times = 2',
    'command = ["true"]',
  );
  const config = load(path);

  it('types [defaults] with the shared option parser, keyed camelCase', () => {
    expect(config.path).toBe(path);
    expect(config.defaults).toEqual({
      timeout: 30_000,
      killAfter: 2000,
      onOverlap: 'kill',
      jitter: 1500,
      maxParallel: 8,
      maxFailures: 3,
      quiet: true,
      progress: false,
      prefix: '[{run}] ',
      timezone: 'Europe/Berlin',
      catchUp: true,
      caseInsensitive: true,
    });
  });

  it('reads [observability]', () => {
    expect(config.observability).toEqual({ healthPort: 8080, healthAddr: '0.0.0.0', metricsPort: 9090 });
  });

  it('reads [plugins], passes [plugins.NAME] through and types its permissions', () => {
    expect(config.plugins).toEqual({
      dir: '/opt/rpr/plugins',
      requireSigned: true,
      trustedKeys: ['ed25519:abc'],
      enabled: ['webhook'],
      disabled: [],
      entries: {
        webhook: {
          config: { url: 'http://127.0.0.1:9/hook', retries: 3, since: '2027-01-01T00:00:00.000Z' },
          permissions: {
            network: ['127.0.0.1:9'],
            filesystem: { '/data': '/var/lib/rpr' },
            exec: ['curl'],
            hostFunctions: ['time'],
            memoryMb: 16,
            timeoutMs: 500,
          },
        },
      },
    });
    // Plain objects, so the plugin host can serialise them as they are.
    expect(Object.getPrototypeOf(config.plugins.entries.webhook!.config)).toBe(Object.prototype);
  });

  it('reads a core job: argv command, typed options, TOML time literal', () => {
    expect(config.jobs.backup).toEqual({
      name: 'backup',
      schedule: 'interval',
      command: ['tar', 'czf', '/tmp/b.tgz', '/data'],
      shell: false,
      options: {
        every: 3_600_000,
        timeout: 600_000,
        untilMatch: { source: 'done', flags: 'i' },
        startAt: new Date(2027, 0, 15, 9, 30, 0).getTime(),
      },
    });
  });

  it('reads a string command as one shell line', () => {
    expect(config.jobs.nightly).toMatchObject({ schedule: 'cron', command: ['pg_dump db | gzip > /tmp/db.gz'], shell: true });
    expect(config.jobs.nightly!.options).toEqual({ cron: '0 3 * * *', timezone: 'UTC' });
  });

  it('passes the unknown keys of a plugin-scheduled job to the plugin', () => {
    expect(config.jobs.fib).toEqual({
      name: 'fib',
      schedule: 'fibonacci',
      command: ['curl', '-f', 'http://x'],
      shell: false,
      options: { times: 10 },
      pluginConfig: { initial: '1s', max: { cap: '5m' } },
    });
  });

  it('accepts the subcommand aliases as schedules', () => {
    expect(config.jobs.short!.schedule).toBe('count');
  });

  it('knows the line of every value', () => {
    expect(config.lineOf(['defaults', 'timeout'])).toBe(3);
    expect(config.lineOf(['observability', 'metrics_port'])).toBe(19);
    expect(config.lineOf(['plugins', 'webhook', 'permissions', 'memory_mb'])).toBe(38);
    expect(config.lineOf(['jobs', 'backup'])).toBe(41);
    expect(config.lineOf(['jobs', 'backup', 'every'])).toBe(43);
  });

  it('accepts an empty file, a comment-only file and a byte-order mark', () => {
    for (const text of ['', '# nothing\n', '\uFEFF[defaults]\ntimeout = "1s"\n']) {
      const path = join(root, `t${n++}.toml`);
      writeFileSync(path, text);
      expect(() => load(path)).not.toThrow();
    }
  });

  it('accepts dotted keys and inline tables for sections', () => {
    expect(load(file('defaults.timeout = "1s"', 'observability = { health_port = 1 }')).defaults).toEqual({ timeout: 1000 });
  });
});

describe('errors name the file, the line and the key path', () => {
  const cases: Array<[string, string[], string, RegExp?]> = [
    // [what, file lines, message (FILE = the path), hint]
    ['invalid TOML, with line and column', ['[defaults]', 'timeout = '], 'FILE:2:11: invalid TOML: invalid value'],
    ['a key defined twice', ['[defaults]', 'timeout = "1s"', 'timeout = "2s"'], 'FILE:3:1: invalid TOML: trying to redefine an already defined table or value'],
    ['an unsafe key', ['__proto__ = 1'], 'FILE:1:1: invalid TOML: document contains an unsafe property'],
    ['an unknown section', ['[defaults]', '', '[nope]', 'x = 1'], 'FILE:3: nope: unknown section', /known sections: defaults, observability, plugins, jobs/],
    ['an option above every section', ['timeout = "1s"'], 'FILE:1: timeout: unknown key', /under \[defaults\]/],
    ['an unknown key in [defaults]', ['[defaults]', 'no_such_key = 1'], 'FILE:2: defaults.no_such_key: unknown key', /known keys: .*timeout.*kill_after/],
    ['a typo in [defaults]', ['[defaults]', 'timeout = "1s"', 'kill_afterr = "1s"'], 'FILE:3: defaults.kill_afterr: unknown key', /did you mean kill_after\?/],
    ['a job-only option in [defaults]', ['[defaults]', 'every = "1s"'], 'FILE:2: defaults.every: not allowed in [defaults]', /jobs\.NAME/],
    ['a health option in [defaults]', ['[defaults]', 'health_port = 1'], 'FILE:2: defaults.health_port: not allowed in [defaults]', /\[observability\]/],
    ['[defaults] that is not a table', ['defaults = 3'], 'FILE:1: defaults: expected a table, got the number 3'],
    ['a number for a duration', ['[defaults]', 'timeout = 30'], 'FILE:2: defaults.timeout: expected a duration string such as "30s", got 30'],
    ['a bad duration', ['[defaults]', '', 'jitter = "30 parsecs"'], 'FILE:3: defaults.jitter: "30 parsecs" is not a duration', /500ms, 30s/],
    ['a bad choice', ['[defaults]', 'on_overlap = "maybe"'], 'FILE:2: defaults.on_overlap: "maybe" is not one of skip, queue, kill, allow'],
    ['a negative count', ['[defaults]', 'max_parallel = -1'], 'FILE:2: defaults.max_parallel: must not be negative, got -1', /use a count of 1 or more/],
    [
      'a negative --times in a job',
      ['[jobs.a]', 'schedule = "count"', 'times = -1', 'command = ["true"]'],
      'FILE:3: jobs.a.times: must not be negative, got -1',
      /omit --times to run without a limit/,
    ],
    ['a fraction for a count', ['[defaults]', 'max_failures = 1.5'], 'FILE:2: defaults.max_failures: expected a whole number, got 1.5'],
    ['a string for a boolean', ['[defaults]', 'quiet = "loud"'], 'FILE:2: defaults.quiet: expected true or false, got "loud"'],
    ['an array for a string', ['[defaults]', 'prefix = ["a"]'], 'FILE:2: defaults.prefix: expected a string, got ["a"]'],
    ['a bad value in a dotted key', ['', 'defaults.timeout = "x"'], 'FILE:2: defaults.timeout: "x" is not a duration'],
    ['a bad value in an inline table', ['defaults = { quiet = true, timeout = "x" }'], 'FILE:1: defaults.timeout: "x" is not a duration'],
    ['an unknown key in [observability]', ['[observability]', 'health_prot = 1'], 'FILE:2: observability.health_prot: unknown key', /did you mean health_port\?/],
    ['a [defaults] key in [observability]', ['[observability]', 'timeout = "1s"'], 'FILE:2: observability.timeout: not allowed in [observability]', /goes in \[defaults\]/],
    ['a wrong type in [observability]', ['[observability]', 'health_port = "http"'], 'FILE:2: observability.health_port: expected a whole number, got "http"'],
    ['a quoted number for a port', ['[observability]', 'metrics_port = "9100"'], 'FILE:2: observability.metrics_port: expected a whole number, got "9100"', /without quotes/],
    ['a quoted number in a job', ['[jobs.a]', 'schedule = "count"', 'times = "3"', 'command = ["true"]'], 'FILE:3: jobs.a.times: expected a whole number, got "3"'],
    ['a quoted boolean', ['[defaults]', 'verbose = "true"'], 'FILE:2: defaults.verbose: expected true or false, got "true"', /without quotes/],
    ['an unknown time zone', ['[defaults]', 'timezone = "Europe/Berln"'], 'FILE:2: defaults.timezone: unknown time zone "Europe/Berln"', /IANA/],
    [
      'an unknown time zone in a cron job',
      ['[jobs.a]', 'schedule = "cron"', 'cron = "* * * * *"', 'timezone = "Mars/Olympus"', 'command = ["true"]'],
      'FILE:4: jobs.a.timezone: unknown time zone "Mars/Olympus"',
    ],
    ['[plugins] that is not a table', ['plugins = "all"'], 'FILE:1: plugins: expected a table, got the string "all"'],
    ['an unknown [plugins] key', ['[plugins]', 'dirr = "/x"'], 'FILE:2: plugins.dirr: unknown key', /did you mean dir\?.*\[plugins\.NAME\]/],
    ['a wrong [plugins] type', ['[plugins]', 'require_signed = "yes"'], 'FILE:2: plugins.require_signed: expected true or false, got the string "yes"'],
    ['a bad item in a multi-line list', ['[plugins]', 'trusted_keys = [', '  "a",', '  2,', ']'], 'FILE:4: plugins.trusted_keys[1]: expected a string, got the number 2'],
    ['permissions that are not a table', ['[plugins.web]', 'permissions = ["net"]'], 'FILE:2: plugins.web.permissions: expected a table, got an array'],
    ['an unknown permission', ['[plugins.web.permissions]', 'netwrok = []'], 'FILE:2: plugins.web.permissions.netwrok: unknown permission', /did you mean network\?/],
    ['a zero memory cap', ['[plugins.web.permissions]', 'memory_mb = 0'], 'FILE:2: plugins.web.permissions.memory_mb: expected a whole number greater than 0, got the number 0'],
    ['a filesystem mapping to a non-string', ['[plugins.web.permissions]', 'filesystem = { "/a" = 1 }'], 'FILE:2: plugins.web.permissions.filesystem."/a": expected a string, got the number 1'],
    ['[jobs] that is not a table', ['jobs = []'], 'FILE:1: jobs: expected a table, got an array', /\[jobs\.NAME\]/],
    ['a job that is not a table', ['[jobs]', 'x = 1'], 'FILE:2: jobs.x: expected a table, got the number 1'],
    ['a job name with a space', ['[jobs."my job"]', 'schedule = "count"', 'command = ["true"]'], 'FILE:1: jobs."my job": a job name must be non-empty, without spaces or control characters'],
    ['a job without schedule', ['[jobs.a]', 'command = ["true"]'], 'FILE:1: jobs.a: missing schedule', /schedule = "interval"/],
    ['a schedule that is not a string', ['[jobs.a]', 'schedule = 5', 'command = ["true"]'], 'FILE:2: jobs.a.schedule: expected a schedule name, got the number 5'],
    ['a job without command', ['[jobs.a]', 'schedule = "count"', 'times = 1'], 'FILE:1: jobs.a: missing command'],
    ['an empty command string', ['[jobs.a]', 'schedule = "count"', 'command = "  "'], 'FILE:3: jobs.a.command: the command is empty'],
    ['an empty command array', ['[jobs.a]', 'schedule = "count"', 'command = []'], 'FILE:3: jobs.a.command: the command is empty'],
    ['a command that is a number', ['[jobs.a]', 'schedule = "count"', 'command = 7'], 'FILE:3: jobs.a.command: expected an array of strings, got the number 7'],
    ['a bad argv item', ['[jobs.a]', 'schedule = "count"', 'command = [', '  "tar",', '  true,', ']'], 'FILE:5: jobs.a.command[1]: expected a string, got true'],
    [
      'an option of another schedule',
      ['[jobs.a]', 'schedule = "interval"', 'every = "1s"', 'command = ["true"]', 'cron = "* * * * *"'],
      'FILE:5: jobs.a.cron: not an option of interval jobs',
      /cron applies to: cron/,
    ],
    [
      'an unknown key in a core job',
      ['[jobs.a]', 'schedule = "count"', 'command = ["true"]', 'retries = 3'],
      'FILE:4: jobs.a.retries: unknown key',
      /known keys: schedule, command, restart, every, times/,
    ],
    ['an interval job without every', ['[jobs.a]', 'schedule = "interval"', 'command = ["true"]'], 'FILE:1: jobs.a: an interval job needs every', /--every/],
    ['a cron job without cron', ['[jobs.a]', 'schedule = "cr"', 'command = ["true"]'], 'FILE:1: jobs.a: a cron job needs cron'],
    ['a stray top-level key before a bad job', ['x = 1', '[jobs.a]', 'schedule = "cron"', 'command = ["true"]'], 'FILE:1: x: unknown key', /known sections/],
    [
      'shell = false with a string command',
      ['[jobs.a]', 'schedule = "count"', 'command = "a | b"', 'shell = false'],
      'FILE:4: jobs.a.shell: a command written as one string always runs through sh -c',
      /array of strings/,
    ],
    ['a bad regex in a job', ['[jobs.a]', 'schedule = "count"', 'command = ["true"]', 'until_match = "("'], 'FILE:4: jobs.a.until_match: /(/: Unterminated group', /regular expressions/],
    ['a bad time in a job', ['[jobs.a]', 'schedule = "count"', 'command = ["true"]', 'until_time = "25:00"'], 'FILE:4: jobs.a.until_time: "25:00" is not a time'],
    ['a bad core option in a plugin job', ['[jobs.a]', 'schedule = "fibonacci"', 'command = ["true"]', 'timeout = "soon"'], 'FILE:4: jobs.a.timeout: "soon" is not a duration'],
    ['a key after a multi-line string that looks like TOML', ['[jobs.a]', 'schedule = "count"', 'command = """', 'bogus = 1', '[fake]', '"""', 'bogus = 1'], 'FILE:7: jobs.a.bogus: unknown key'],
  ];

  it.each(cases)('%s', (_what, lines, message, hint) => {
    const error = firstError(...lines);
    expect(error.message).toBe(message);
    if (hint) expect(error.hint).toMatch(hint);
  });

  it('formats as one line: rpr: FILE:LINE: key: problem (hint: ...)', async () => {
    const { formatError } = await import('../../src/errors/exit-codes.js');
    const path = file('[defaults]', 'no_such_key = 1');
    let line = '';
    try {
      load(path);
    } catch (error) {
      line = formatError(error);
    }
    expect(line).toMatch(new RegExp(`^rpr: ${path}:2: defaults\\.no_such_key: unknown key \\(hint: known keys: [a-z_, ]+\\)$`));
  });

  it('throws the first problem in file order, whatever the section order', () => {
    const error = firstError('[jobs.a]', 'command = ["true"]', 'schedule = 1', '', '[defaults]', 'timeout = "x"');
    expect(error.message).toBe('FILE:3: jobs.a.schedule: expected a schedule name, got the number 1');
  });

  it('names a missing file and a directory', () => {
    const missing = join(root, 'missing.toml');
    expect(() => load(missing)).toThrow(`${missing}: no such file`);
    const dir = join(root, 'dir.toml');
    mkdirSync(dir);
    expect(() => load(dir)).toThrow(`${dir}: is a directory, not a file`);
  });
});

describe('checkConfigFile', () => {
  it('returns every problem, in line order', () => {
    const path = file('[jobs.a]', 'schedule = "count"', 'command = ["true"]', 'timeout = "x"', '', '[defaults]', 'no_such_key = 1', 'quiet = "loud"', '', '[observability]', 'health_port = -1');
    const problems = checkConfigFile(path, { nowWall: NOW }).map((p) => p.message.replace(path, 'FILE'));
    expect(problems).toEqual([
      'FILE:4: jobs.a.timeout: "x" is not a duration',
      'FILE:7: defaults.no_such_key: unknown key',
      'FILE:8: defaults.quiet: expected true or false, got "loud"',
      'FILE:11: observability.health_port: must not be negative, got -1',
    ]);
    expect(checkConfigFile(path).every((p) => p.code === 'E_CONFIG')).toBe(true);
  });

  it('returns nothing for a valid file and one problem for invalid TOML', () => {
    expect(checkConfigFile(file('[defaults]', 'timeout = "1s"'))).toEqual([]);
    expect(checkConfigFile(file('[defaults', 'x'))).toHaveLength(1);
  });

  it('throws when the file cannot be read', () => {
    expect(() => checkConfigFile(join(root, 'missing.toml'))).toThrow(/no such file/);
  });
});
