// Property-based (issue 7): the TOML config file, from text to the loader's problems. Random text,
// valid files written the way the docs show them, the same files with small edits, and documents
// of known keys holding values of every TOML type: each is either accepted or reported as E_CONFIG
// problems (exit 2) that name the file, as printable lines - never another exception or a hang.
import fc from 'fast-check';
import { stringify } from 'smol-toml';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS_OPTIONS } from '../../src/config/schema.js';
import { OPTIONS, snakeCase } from '../../src/options/catalog.js';
import { anyText, holds, mutated, RUNS, Sandbox, type ErrorData } from '../helpers/property.js';

const box = new Sandbox();
afterAll(() => box.close());

const LIMIT_MS = 3000;
const NOW = Date.UTC(2027, 4, 1, 12);
const testTimeout = Math.max(30_000, RUNS * 400);

interface Loaded {
  problems: ErrorData[];
  jobs: string[];
  defaults: string[];
}

async function load(text: string) {
  const a = await box.call<Loaded>('config', [text, NOW], LIMIT_MS);
  if (!a.ok) throw new Error(`parseConfig threw instead of reporting a problem: ${a.error.name}: ${a.error.message}\n${a.error.stack}\n--- file:\n${text}`);
  for (const p of a.value.problems) {
    expect(p.rpr, p.message).toBe(true);
    expect(p.code, p.message).toBe('E_CONFIG');
    expect(p.exit).toBe(2);
    // FILE, FILE:LINE or FILE:LINE:COLUMN, then what is wrong.
    expect(p.message, p.message).toMatch(/^\/etc\/rpr\.toml(:\d+){0,2}: \S/);
    expect(p.line, 'one printable line').not.toMatch(/[\u0000-\u001f\u007f]/);
  }
  return a.value;
}

// ---------------------------------------------------------------------------
// Valid files

const q = (s: string): string => JSON.stringify(s);
const duration = fc.constantFrom('"30s"', '"1h30m"', '"500ms"', '"1.5s"', '"0"', '"2d"');
const byType = (key: string): fc.Arbitrary<string> | null => {
  const def = OPTIONS.find((d) => d.key === key)!;
  if (key === 'timezone') return fc.constantFrom('"UTC"', '"Europe/Berlin"', '"America/New_York"');
  if (key === 'executor' || key === 'output') return null; // plugin names: checked when a job runs
  switch (def.type) {
    case 'duration':
      return duration;
    case 'int':
      return fc.integer({ min: Math.max(1, def.min ?? 0), max: def.max ?? 1000 }).map(String);
    case 'boolean':
      return fc.boolean().map(String);
    case 'enum':
      return fc.constantFrom(...def.choices!).map(q);
    case 'string':
      return fc.constantFrom('"[{run}] "', '"> "', '"job-1"', '"a,b"', "'single'", '"""\nmulti"""');
    case 'regex':
      return fc.constantFrom('"(?i)done"', '"^ok$"', "'\\d+'");
    case 'time':
      return fc.constantFrom('"09:30"', '09:30:00', '2027-01-31T09:00:00Z', '"2027-01-31T09:00:00Z"');
    default:
      return null;
  }
};
// The keys [defaults] takes, as the loader knows them (new options join automatically).
const DEFAULTABLE = [...DEFAULTS_OPTIONS.values()].filter((d) => byType(d.key) !== null);

const defaultsSection = fc
  .subarray(DEFAULTABLE, { maxLength: 6 })
  .chain((defs) => fc.tuple(...defs.map((d) => byType(d.key)!.map((v) => `${snakeCase(d.key)} = ${v}`))))
  .map((lines) => (lines.length ? `[defaults]\n${lines.join('\n')}\n` : ''));

const observabilitySection = fc.tuple(fc.option(fc.integer({ min: 0, max: 65535 })), fc.option(fc.integer({ min: 0, max: 65535 })), fc.boolean()).map(([health, metrics, addr]) => {
  const lines = [health !== null ? `health_port = ${health}` : '', metrics !== null ? `metrics_port = ${metrics}` : '', addr ? 'health_addr = "127.0.0.1"' : ''].filter(Boolean);
  return lines.length ? `[observability]\n${lines.join('\n')}\n` : '';
});

const pluginsSection = fc.constantFrom(
  '',
  '[plugins]\nenabled = ["webhook"]\n',
  '[plugins.webhook]\nurl = "http://127.0.0.1:9/hook"\nretries = 3\n\n[plugins.webhook.permissions]\nnetwork = ["127.0.0.1:9"]\ntimeout_ms = 2000\n',
  '[plugins.fibonacci]\ninitial = "1s"\n',
);

const jobName = fc.stringMatching(/^[a-z][a-z0-9_-]{0,15}$/);
const command = fc.constantFrom('["echo", "hi"]', '"curl -fsS http://127.0.0.1/ | head -1"', "['true']", '[\n  "sh",\n  "-c",\n  "exit 0",\n]');
const job = fc.oneof(
  fc
    .tuple(
      duration.filter((d) => d !== '"0"'),
      fc.option(fc.integer({ min: 1, max: 100 })),
    )
    .map(([every, times]) => `schedule = "interval"\nevery = ${every}${times ? `\ntimes = ${times}` : ''}`),
  fc.constantFrom(
    'schedule = "cron"\ncron = "*/5 * * * *"\ntimezone = "Europe/Berlin"',
    'schedule = "count"\ntimes = 3',
    'schedule = "duration"\nfor = "1m"',
    'schedule = "fibonacci"\ninitial = "1s"',
    'schedule = "i"\nevery = "10s"\ntimeout = "5s"',
  ),
);
const jobsSection = fc
  .uniqueArray(fc.tuple(jobName, job, command), { maxLength: 3, selector: ([name]) => name })
  .map((jobs) => jobs.map(([name, body, cmd]) => `[jobs.${name}]\n${body}\ncommand = ${cmd}\n`).join('\n'));

const comment = fc.constantFrom('', '# rpr config\n', '\n\n');
const validConfig = fc.tuple(comment, defaultsSection, observabilitySection, pluginsSection, jobsSection).map((sections) => sections.filter(Boolean).join('\n'));

describe('config file', () => {
  it(
    'files written as the docs show them load without a problem',
    async () => {
      await holds(
        fc.asyncProperty(validConfig, async (text) => {
          const loaded = await load(text);
          expect(
            loaded.problems.map((p) => p.message),
            text,
          ).toEqual([]);
        }),
      );
    },
    testTimeout,
  );

  it(
    'the same files with small edits: accepted, or E_CONFIG problems naming the file and line',
    async () => {
      await holds(
        fc.asyncProperty(mutated(validConfig, '[]="\'#.,\n{}=0123456789 abcxyz-_\\\u0000é'), async (text) => {
          await load(text);
        }),
      );
    },
    testTimeout,
  );

  it(
    'random text: accepted or reported, never thrown',
    async () => {
      await holds(
        fc.asyncProperty(fc.oneof(anyText(200), fc.string({ unit: fc.constantFrom(...'[]="\'#.,\n{}=0 a-_:'.split('')), maxLength: 120 })), async (text) => {
          await load(text);
        }),
      );
    },
    testTimeout,
  );

  // Known keys, each holding a value of any TOML type: the typing of every key is exercised.
  const tomlValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      anyText(20),
      fc.constantFrom('30s', '0', '-1s', '09:30', 'skip', '(?i)x', '*/5 * * * *', 'Europe/Berlin', 'Mars/Olympus'),
      fc.integer(),
      fc.integer({ min: -1, max: 70_000 }),
      fc.double({ noNaN: false }),
      fc.boolean(),
      fc.date({ min: new Date(0), max: new Date(Date.UTC(3000, 0, 1)), noInvalidDate: true }),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom('a', 'network', 'url', 'permissions', 'x y'), tie('value'), { maxKeys: 2 }),
    ),
  })).value;
  const optionKey = fc.constantFrom(
    ...OPTIONS.map((d) => snakeCase(d.key)),
    'schedule',
    'command',
    'dir',
    'enabled',
    'network',
    'exec',
    'memory_mb',
    'timeout_ms',
    'filesystem',
    'host_functions',
    'url',
    '__proto__',
    'constructor',
    '',
  );
  const table = fc.dictionary(optionKey, tomlValue, { maxKeys: 5 });
  const doc = fc.record(
    {
      defaults: table,
      observability: table,
      plugins: fc.dictionary(fc.constantFrom('webhook', 'dir', 'enabled', 'fibonacci', 'x'), fc.oneof(tomlValue, fc.record({ permissions: table }, { requiredKeys: [] })), { maxKeys: 3 }),
      jobs: fc.dictionary(
        fc.oneof(jobName, anyText(8)),
        fc.oneof(
          table,
          fc
            .record({ schedule: fc.constantFrom('interval', 'cron', 'count', 'duration', 'fibonacci', 'nope', ''), command: fc.oneof(command, tomlValue) })
            .chain((base) => table.map((t) => ({ ...t, ...base }))),
        ),
        { maxKeys: 3 },
      ),
      other: tomlValue,
    },
    { requiredKeys: [] },
  );

  it(
    'known keys holding values of every TOML type: typed, or an E_CONFIG problem per bad value',
    async () => {
      await holds(
        fc.asyncProperty(doc, async (object) => {
          let text: string;
          try {
            text = stringify(object);
          } catch {
            return; // not representable in TOML (e.g. a top-level array of mixed tables)
          }
          await load(text);
        }),
      );
    },
    testTimeout,
  );
});
