// Plugin figures (issue 14): a plugin's load, cold and from the compiled-module cache, and a
// scheduler's decisions, through the plugin system's public API (dist/plugins/index.js), so that
// they measure whatever the host does at the time.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { log, median, ms, quantile, REPEAT, ROOT, row, unmeasured } from './common.mjs';

/** Round trips to a worker thread: what a plugin run in a worker pays for each call at least. */
async function workerRoundTrips(n) {
  const worker = new Worker("const { parentPort } = require('node:worker_threads'); parentPort.on('message', (m) => parentPort.postMessage(m));", { eval: true });
  await new Promise((resolve) => worker.once('online', resolve));
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    worker.postMessage(JSON.stringify({ run: i, last_exit_code: 1, success: false, duration_ms: 5, consecutive_failures: 1, output_tail: '', now_ms: Date.now(), started_ms: Date.now() }));
    await new Promise((resolve) => worker.once('message', resolve));
    times.push(performance.now() - t0);
  }
  await worker.terminate();
  return times;
}

/**
 * A bare instance of the same compiled module, its host functions stubbed: what a load from the
 * cache cannot go below. Null when the module imports more than functions.
 */
function bareInstances(bytes, n) {
  const module = new WebAssembly.Module(bytes);
  const imports = {};
  for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
    if (kind !== 'function') return null;
    (imports[from] ??= {})[name] = () => 0;
  }
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    new WebAssembly.Instance(module, imports);
    times.push(performance.now() - t0);
  }
  return times;
}

export async function plugins() {
  log('plugin load and decisions');
  let api;
  try {
    api = await import(path.join(ROOT, 'dist/plugins/index.js'));
  } catch (error) {
    unmeasured('Plugins', 'plugin figures', error, '');
    return;
  }
  const { loadPlugin, readManifest, clearModuleCache, schedulerNext } = api;
  const manifest = await readManifest(path.join(ROOT, 'plugins-dist/fibonacci/plugin.toml'));
  const bytes = readFileSync(manifest.wasm);
  const n = Math.max(10, REPEAT * 4);
  const cold = [];
  const warm = [];
  const compile = [];
  try {
    for (let i = 0; i < n; i++) {
      let t0 = performance.now();
      await WebAssembly.compile(bytes);
      compile.push(performance.now() - t0);
      clearModuleCache?.();
      t0 = performance.now();
      const h1 = await loadPlugin(manifest);
      cold.push(performance.now() - t0);
      await h1.close();
      t0 = performance.now();
      const h2 = await loadPlugin(manifest);
      warm.push(performance.now() - t0);
      await h2.close();
    }
    row(
      'Plugins',
      `plugin load, cold (fibonacci, ${(bytes.length / 1024).toFixed(0)} KB of wasm; the compiled-module cache cleared first)`,
      ms(median(cold), 1),
      `${ms(median(compile), 1)} (\`WebAssembly.compile\` of the same bytes)`,
      {
        ratio: `${(median(cold) / median(compile)).toFixed(1)}x`,
      },
    );
    const bare = bareInstances(bytes, n);
    row(
      'Plugins',
      "a scheduler plugin's load from the compiled-module cache",
      ms(median(warm), 2),
      bare ? `${ms(median(bare), 2)} (a bare \`WebAssembly.Instance\` of the same module)` : 'none (the module imports more than functions)',
      {
        ...(bare ? { ratio: `${(median(warm) / median(bare)).toFixed(1)}x` } : {}),
        target: '<= 5 ms',
        met: median(warm) <= 5,
      },
    );
  } catch (error) {
    unmeasured('Plugins', "a scheduler plugin's load from the compiled-module cache", error, '<= 5 ms');
    return;
  }

  const calls = 2000;
  const decisions = [];
  const bare = [];
  // The other CPU limit on rpr's own thread, for modules the meter leaves alone (RPR_PLUGIN_METER=0):
  // V8 stops a call at node:vm's timeout, which starts a watchdog thread for each call. The same
  // plugin under it, and the guard alone around a function that does nothing.
  const vmDecisions = [];
  const guarded = vm.createContext({ f: () => 0 });
  const guard = new vm.Script('f()');
  const guards = [];
  try {
    const handle = await loadPlugin(manifest);
    if (!handle.metered) throw new Error('fibonacci was not metered');
    const vmHandle = await loadPlugin(manifest, { vmGuard: true });
    const sdk = await bareSdkPlugin(bytes);
    const state = (run) => ({ run, last_exit_code: 1, success: false, duration_ms: 5, consecutive_failures: run, output_tail: '', now_ms: Date.now(), started_ms: Date.now() - 1000 });
    for (let i = 0; i < 50; i++) {
      await schedulerNext(handle, state(i % 20));
      await sdk.next(state(i % 20));
    }
    // Call for call, alternating: both see the same machine at the same moment.
    for (let i = 0; i < calls; i++) {
      let t0 = performance.now();
      await schedulerNext(handle, state(i % 20));
      decisions.push(performance.now() - t0);
      t0 = performance.now();
      await sdk.next(state(i % 20));
      bare.push(performance.now() - t0);
      t0 = performance.now();
      await schedulerNext(vmHandle, state(i % 20));
      vmDecisions.push(performance.now() - t0);
      t0 = performance.now();
      guard.runInContext(guarded, { timeout: 1000 });
      guards.push(performance.now() - t0);
    }
    await handle.close();
    await vmHandle.close();
    await sdk.close();
  } catch (error) {
    unmeasured('Plugins', 'scheduler plugin decision (`next`)', error, '<= 0.2 ms median, <= 1 ms p99');
    return;
  }
  const trips = await workerRoundTrips(calls);
  const [p50, p99] = [quantile(decisions, 0.5), quantile(decisions, 0.99)];
  row(
    'Plugins',
    `scheduler plugin decision, median of ${calls} (\`next\` of fibonacci)`,
    ms(p50, 3),
    `${ms(median(bare), 3)} (the Extism SDK alone, same calls); under node:vm's guard instead of metering: ${ms(median(vmDecisions), 3)}; a message to a worker thread and back: ${ms(median(trips), 3)}`,
    { ratio: `${(p50 / median(bare)).toFixed(1)}x`, target: '<= 0.2 ms', met: p50 <= 0.2 },
  );
  row(
    'Plugins',
    'scheduler plugin decision, p99',
    ms(p99, 3),
    `${ms(quantile(bare, 0.99), 3)} (the Extism SDK alone, p99); under node:vm's guard instead of metering: ${ms(quantile(vmDecisions, 0.99), 3)}, the guard alone (an empty function): ${ms(quantile(guards, 0.99), 3)}; worker round trip p99: ${ms(quantile(trips, 0.99), 3)}`,
    {
      ratio: `${(p99 / quantile(bare, 0.99)).toFixed(1)}x`,
      target: '<= 1 ms',
      met: p99 <= 1,
    },
  );
}

/**
 * The floor of a decision: the same module called through the Extism SDK alone, on this thread, with
 * the same state as JSON and its answer parsed - no guard, no permission checks, nothing of rpr's.
 */
async function bareSdkPlugin(bytes) {
  const { createPlugin } = await import('@extism/extism');
  const plugin = await createPlugin(await WebAssembly.compile(bytes), { useWasi: false, runInWorker: false, config: {} });
  await plugin.call('init', '');
  return {
    next: async (state) => JSON.parse((await plugin.call('next', JSON.stringify(state))).text()),
    close: () => plugin.close(),
  };
}
