/**
 * A module against wit/contract.json before it runs: every import must be a contract host function
 * or Extism kernel function with the right signature (WASI only with a filesystem grant), and the
 * kind's exports must be there with the Extism export signature. Refusing here gives one clear
 * message instead of Extism's "cannot resolve import" thrown inside the worker.
 */
import { CONTRACT, requiredExports, type FunctionSignature, type PluginKind, type ValType } from '../contract.js';
import { PluginError } from '../errors.js';
import type { WasmInfo } from '../wasm/inspect.js';
import { packageFile } from '../../package-files.js';

const sig = (params: readonly ValType[] = [], results: readonly ValType[] = []) => `(${params.join(', ')}) -> (${results.join(', ')})`;

const TABLES: Record<string, Map<string, FunctionSignature>> = {
  [CONTRACT.host_functions.module]: new Map(CONTRACT.host_functions.functions.map((f) => [f.name, f])),
  [CONTRACT.extism_env.module]: new Map(CONTRACT.extism_env.functions.map((f) => [f.name, f])),
};

export function checkImports(plugin: string, info: WasmInfo, wasiGranted: boolean): void {
  for (const imp of info.imports) {
    const what = `import "${imp.module}" "${imp.name}"`;
    if (imp.module === CONTRACT.wasi.module) {
      if (!wasiGranted) {
        throw new PluginError(plugin, 'load', 'denied', `${what}: the module uses WASI but has no filesystem permission`, {
          hint: 'declare [permissions] filesystem = { "/guest" = "host dir" }, or build the plugin without WASI',
        });
      }
      continue;
    }
    const table = TABLES[imp.module];
    const spec = table?.get(imp.name);
    if (!spec) throw new PluginError(plugin, 'load', 'abi', `${what} is not part of the rpr plugin ABI ${CONTRACT.abi}`, { hint: `see ${packageFile('wit/rpr-plugin.wit')}` });
    if (sig(imp.params, imp.results) !== sig(spec.params, spec.results)) {
      throw new PluginError(plugin, 'load', 'abi', `${what} has signature ${sig(imp.params, imp.results)}, the ABI says ${sig(spec.params, spec.results)}`);
    }
  }
}

export function checkExports(plugin: string, kind: PluginKind, info: WasmInfo): void {
  const want = sig(CONTRACT.export_signature.params, CONTRACT.export_signature.results);
  for (const { name } of requiredExports(kind)) {
    const exp = info.exports.find((e) => e.name === name);
    if (exp?.kind !== 'function')
      throw new PluginError(plugin, 'load', 'abi', `${kind === 'scheduler' ? 'a' : 'an'} ${kind} plugin must export the function "${name}"`, { hint: `see ${packageFile('wit/rpr-plugin.wit')}` });
    if (sig(exp.params, exp.results) !== want) throw new PluginError(plugin, 'load', 'abi', `export "${name}" has signature ${sig(exp.params, exp.results)}, Extism exports are ${want}`);
  }
  if (!info.exports.some((e) => e.name === CONTRACT.exports.memory && e.kind === 'memory')) {
    throw new PluginError(plugin, 'load', 'abi', `the module must export its memory as "${CONTRACT.exports.memory}"`);
  }
}
