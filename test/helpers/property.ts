/**
 * Property-based testing helpers (issue 7).
 *
 * - `RUNS`: cases per property, 100 by default (CI); RPR_PROPERTY_RUNS=10000 for a long local run.
 * - `holds(property)`: fc.check with the seed printed on failure, and replay from
 *   RPR_PROPERTY_SEED / RPR_PROPERTY_PATH (copy them from the failure message).
 * - `Sandbox`: calls a parser in a worker thread running the built modules (dist/), with a time
 *   limit per case: a call that does not answer in time is a hang (the worker is terminated, which
 *   interrupts even a synchronous loop), and a rejection nobody handled is reported with the answer.
 */
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';

export const RUNS = Math.max(1, Number(process.env.RPR_PROPERTY_RUNS ?? 100));
/** True in the long local mode (RPR_PROPERTY_RUNS above the CI default). */
export const LONG = RUNS > 100;

export interface ErrorData {
  name: string;
  message: string;
  code?: string;
  hint?: string;
  failure?: string;
  rpr: boolean;
  /** The line the CLI prints for it (formatError) and the exit status (exitCodeFor). */
  line?: string;
  exit?: number;
  stack?: string;
}

export type Answer<T = unknown> = { ok: true; value: T; ms: number } | { ok: false; error: ErrorData; ms: number };

/** A failure of the harness itself, or of rpr beyond a thrown error: a hang or an unhandled rejection. */
export class PropertyBreach extends Error {}

export class Sandbox {
  #worker: Worker | undefined;
  #ready: Promise<void> | undefined;
  #next = 0;
  #pending = new Map<number, { resolve: (a: { ok: boolean; value?: unknown; error?: ErrorData; unhandled: string[] }) => void; reject: (e: Error) => void }>();

  constructor(private readonly env: Record<string, string> = {}) {}

  #start(): Promise<void> {
    if (this.#ready) return this.#ready;
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('RPR_')) env[k] = v;
    Object.assign(env, { XDG_CONFIG_HOME: '/nonexistent', RPR_PLUGIN_DIR: '/nonexistent/rpr-plugins', ...this.env });
    const worker = new Worker(new URL('./property-worker.mjs', import.meta.url), { env, stdout: true, stderr: true });
    this.#worker = worker;
    // The worker's own console output is not the test's business; drain it.
    worker.stdout.resume();
    worker.stderr.resume();
    this.#ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { ready?: boolean; id?: number }) => {
        if (m.ready) return resolve();
        const p = this.#pending.get(m.id!);
        this.#pending.delete(m.id!);
        p?.resolve(m as never);
      });
      worker.on('error', (error) => {
        reject(error);
        for (const p of this.#pending.values()) p.reject(new PropertyBreach(`the worker died: ${error.stack ?? error.message}`));
        this.#pending.clear();
        this.#reset(worker);
      });
      worker.on('exit', () => this.#reset(worker));
    });
    return this.#ready;
  }

  #reset(worker: Worker): void {
    if (this.#worker === worker) {
      this.#worker = undefined;
      this.#ready = undefined;
    }
  }

  /**
   * Calls `op(...args)` in the worker. Resolves with its value or the error it threw; rejects with
   * a PropertyBreach when it does not answer within `limitMs` or left a rejection unhandled.
   */
  async call<T = unknown>(op: string, args: unknown[], limitMs = 2000): Promise<Answer<T>> {
    await this.#start();
    const worker = this.#worker!;
    const id = this.#next++;
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const answer = new Promise<{ ok: boolean; value?: unknown; error?: ErrorData; unhandled: string[] }>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      timer = setTimeout(() => {
        this.#pending.delete(id);
        void worker.terminate();
        this.#reset(worker);
        reject(new PropertyBreach(`hang: ${op}(${show(args)}) did not answer within ${limitMs} ms`));
      }, limitMs);
    });
    worker.postMessage({ id, op, args });
    try {
      const reply = await answer;
      const ms = performance.now() - t0;
      if (reply.unhandled.length > 0) throw new PropertyBreach(`${op}(${show(args)}) left ${reply.unhandled.join('; ')}`);
      return reply.ok ? { ok: true, value: reply.value as T, ms } : { ok: false, error: reply.error!, ms };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#ready = undefined;
    await worker?.terminate();
  }
}

const show = (v: unknown): string => {
  const text = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `<${x.length} bytes>` : x)) ?? String(v);
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
};

/**
 * Asserts a property with RUNS cases. On failure the error names the seed and path and how to
 * replay them, and the same text goes to stderr (so it shows even where a reporter trims messages).
 */
export async function holds<Ts>(property: fc.IAsyncPropertyWithHooks<Ts> | fc.IAsyncProperty<Ts>, params: fc.Parameters<Ts> = {}): Promise<void> {
  const seed = process.env.RPR_PROPERTY_SEED;
  const replay: fc.Parameters<Ts> = seed !== undefined ? { seed: Number(seed), ...(process.env.RPR_PROPERTY_PATH ? { path: process.env.RPR_PROPERTY_PATH } : {}), endOnFailure: false } : {};
  const details = await fc.check(property, { numRuns: RUNS, ...params, ...replay });
  if (!details.failed) return;
  const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance ?? '');
  const report = `${fc.defaultReportMessage(details) ?? 'property failed'}\nGot: ${cause}`;
  const message = `${report}\n` + `replay: RPR_PROPERTY_SEED=${details.seed} RPR_PROPERTY_PATH=${details.counterexamplePath ?? ''} npx vitest run <this file> -t '<this test>'`;
  process.stderr.write(`\n[property] seed ${details.seed}, path ${details.counterexamplePath}\n`);
  throw new Error(message);
}

/** A one-line rpr error, as the CLI prints it: `rpr: ...`, no stack trace, no internal error. */
export const STACK_LINE = /^\s+at .+\(?.*:\d+:\d+\)?$/m;

// ---------------------------------------------------------------------------
// Generators shared by the property tests

/** Strings a hurried user (or a fuzzer) might type: ASCII, any Unicode, control characters. */
export const anyText = (maxLength = 40): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.constantFrom('', ' ', '\t', '\n', '\u0000', '\uFEFF', '-', '--', '=', '"', "'", '\\', 'NaN', 'Infinity', '-0', '1e309', '0x10', '٣', '１', '\u202e'),
  );

/**
 * Near-valid: a valid text changed by one or two small edits (a character dropped, doubled,
 * replaced or inserted; the text cut; case flipped; spaces around).
 */
export function mutated(valid: fc.Arbitrary<string>, alphabet = '0123456789 .,:-+/*?#LW_smhdwSMHDW\t"\'\\=\u0000é'): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.nat(), fc.nat({ max: 7 }), fc.constantFrom(...alphabet.split('')));
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 2 })).map(([text, edits]) => {
    let s = text;
    for (const [at, kind, ch] of edits) {
      const i = s.length === 0 ? 0 : at % (s.length + 1);
      switch (kind) {
        case 0:
          s = s.slice(0, i) + s.slice(i + 1);
          break; // drop
        case 1:
          s = s.slice(0, i) + s.charAt(i) + s.slice(i);
          break; // double
        case 2:
          s = s.slice(0, i) + ch + s.slice(i + 1);
          break; // replace
        case 3:
          s = s.slice(0, i) + ch + s.slice(i);
          break; // insert
        case 4:
          s = s.slice(0, i);
          break; // cut
        case 5:
          s = s.toUpperCase();
          break;
        case 6:
          s = ` ${s} `;
          break;
        default:
          s = s + s;
          break; // repeat
      }
    }
    return s;
  });
}

/** Boundary numbers as text. */
export const boundaryNumbers = [
  '0',
  '-0',
  '1',
  '-1',
  '0.5',
  '.5',
  '5.',
  '9007199254740991',
  '9007199254740992',
  '1e21',
  '99999999999999999999999',
  '2147483647',
  '2147483648',
  '4294967296',
  '65535',
  '65536',
];
