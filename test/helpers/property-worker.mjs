// The worker behind test/helpers/property.ts: runs one parser call at a time against the built
// modules (dist/), so that the test thread can stop a call that hangs (worker.terminate() interrupts
// even a synchronous loop) and see rejections nobody handled. Every answer is plain data.
import { parentPort } from 'node:worker_threads';

const dist = (p) => import(new URL(`../../dist/${p}`, import.meta.url).href);
const { RprError } = await dist('errors/index.js');
const { formatError, exitCodeFor } = await dist('errors/exit-codes.js');

/** Rejections and exceptions nobody handled since the last answer. */
const unhandled = [];
process.on('unhandledRejection', (reason) => unhandled.push(`unhandled rejection: ${describe(reason)}`));
process.on('uncaughtException', (error) => unhandled.push(`uncaught exception: ${describe(error)}`));

function describe(value) {
  if (value instanceof Error) return `${value.name}: ${value.message}\n${value.stack ?? ''}`;
  return String(value);
}

function errorData(error) {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error), rpr: false };
  return {
    name: error.name,
    message: error.message,
    code: error.code,
    hint: error.hint,
    failure: error.failure,
    rpr: error instanceof RprError,
    /** What the CLI prints for it, and its exit status. */
    line: formatError(error),
    exit: exitCodeFor(error),
    stack: error.stack,
  };
}

/** Writes to process.stdout/stderr while fn runs, collected instead of printed. */
async function captured(fn) {
  const out = [];
  const err = [];
  const write = (sink) => (chunk, encoding, cb) => {
    sink.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    if (typeof encoding === 'function') encoding();
    else if (typeof cb === 'function') cb();
    return true;
  };
  const saved = [process.stdout.write, process.stderr.write];
  process.stdout.write = write(out);
  process.stderr.write = write(err);
  try {
    const value = await fn();
    return { value, stdout: out.join(''), stderr: err.join('') };
  } finally {
    [process.stdout.write, process.stderr.write] = saved;
  }
}

const OPS = {
  async duration(text) {
    return (await dist('units/duration.js')).parseDuration(text, '--every');
  },
  /** parseDuration(formatDuration(ms)): what a shown duration means when typed back. */
  async durationRoundTrip(ms) {
    const { formatDuration, parseDuration } = await dist('units/duration.js');
    const text = formatDuration(ms);
    return { text, ms: parseDuration(text, 'round trip') };
  },
  async time(text, nowWall) {
    return (await dist('units/time.js')).parseTimeOfDayOrIso(text, '--start-at', nowWall);
  },
  async pattern(text) {
    return (await dist('units/pattern.js')).compilePattern(text, '--until-match');
  },
  /** One catalog option from a raw value (a flag's text, an env string or a TOML value). */
  async option(key, raw, nowWall) {
    const { OPTIONS } = await dist('options/catalog.js');
    const { parseOptionValue } = await dist('options/values.js');
    const def = OPTIONS.find((d) => d.key === key);
    if (!def) throw new Error(`no option ${key}`);
    const value = parseOptionValue(def, raw, undefined, nowWall);
    return value instanceof RegExp ? String(value) : value;
  },
  /** parseCron, then the next `n` fire times after `from` (epoch ms). */
  async cron(expr, tz, n, from) {
    const { parseCron, nextTimes } = await dist('schedule/cron/parse.js');
    const schedule = parseCron(expr, tz);
    return { timezone: schedule.timezone, hasSeconds: schedule.hasSeconds, times: nextTimes(schedule, n, from) };
  },
  async zone(tz) {
    const { resolveZone } = await dist('schedule/cron/zone.js');
    return resolveZone(tz);
  },
  async config(text, nowWall) {
    const { parseConfig } = await dist('config/load.js');
    const { config, problems } = parseConfig(text, '/etc/rpr.toml', { nowWall });
    return {
      problems: problems.map(errorData),
      jobs: Object.keys(config.jobs),
      defaults: Object.keys(config.defaults),
    };
  },
  async manifest(text) {
    const { parseManifest } = await dist('plugins/manifest/parse.js');
    const m = parseManifest(text, '/plugins/p/plugin.toml');
    return { name: m.name, kind: m.kind, version: m.version, wasm: m.wasm, permissions: m.permissions, config: m.config };
  },
  async answer(fn, bytes) {
    const { parseAnswer } = await dist('plugins/host/generation.js');
    return parseAnswer('prop', fn, bytes === null ? null : new Uint8Array(bytes));
  },
  async decision(value) {
    return (await dist('plugins/messages.js')).checkDecision('prop', value);
  },
  async plan(value) {
    return (await dist('plugins/messages.js')).checkPlanShape('prop', value);
  },
  async ack(value) {
    return (await dist('plugins/messages.js')).checkAck('prop', 'deliver', value);
  },
  async description(value) {
    return (await dist('plugins/messages.js')).checkDescription('prop', value);
  },
  /** `rpr plugins install SOURCE --yes` into pluginDir (src/manage): what it printed, or the error. */
  async install(source, pluginDir) {
    const { manager, installPlugin } = await dist('manage/index.js');
    const out = [];
    const io = { out: (line) => out.push(line), note: (line) => out.push(line), confirm: async () => {} };
    await installPlugin(manager(undefined, io, { RPR_PLUGIN_DIR: pluginDir }), source);
    return out;
  },
  // The harness's own checks (test/unit/property-harness.test.ts): a hang and a leaked rejection.
  async spin() {
    for (;;);
  },
  async leak() {
    void Promise.reject(new Error('nobody awaits this'));
    return 'answered';
  },
  /** The whole command line, in this thread: exit status and what it printed. */
  async main(argv) {
    const { main } = await dist('cli-modules/program.js');
    const { value, stdout, stderr } = await captured(() => main(argv));
    return { code: value, stdout, stderr };
  },
};

parentPort.on('message', async ({ id, op, args }) => {
  let reply;
  try {
    const fn = OPS[op];
    if (!fn) throw new Error(`unknown op ${op}`);
    reply = { id, ok: true, value: await fn(...args) };
  } catch (error) {
    reply = { id, ok: false, error: errorData(error) };
  }
  // Let a rejection nobody awaited surface before answering.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 0));
  reply.unhandled = unhandled.splice(0);
  try {
    parentPort.postMessage(reply);
  } catch (error) {
    parentPort.postMessage({ id, ok: false, error: { name: 'DataCloneError', message: `answer not cloneable: ${error.message}`, rpr: false }, unhandled: reply.unhandled });
  }
});
parentPort.postMessage({ ready: true });
