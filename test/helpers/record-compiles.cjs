// Preloaded with `node --require`: writes to RPR_COMPILES_FILE, one JSON line each, how every
// CommonJS file the process loads was compiled: by Node's own loader, before or after rpr's
// code-cache hook (src/cli/code-cache.ts) was installed, or from a code cache, and whether V8
// accepted that cache.
const { appendFileSync } = require('node:fs');
const Module = require('node:module');
const vm = require('node:vm');

const out = process.env.RPR_COMPILES_FILE;
const record = (entry) => appendFileSync(out, `${JSON.stringify(entry)}\n`);
const loadJs = Module._extensions['.js'];
const hook = (module, filename) => {
  record({ file: filename, by: Module._extensions['.js'] === hook ? 'node, before the hook' : 'node, after the hook' });
  return loadJs(module, filename);
};
Module._extensions['.js'] = hook;
const Script = vm.Script;
vm.Script = class extends Script {
  constructor(source, options) {
    super(source, options);
    if (options?.cachedData) record({ file: options.filename, by: 'cache', rejected: this.cachedDataRejected });
  }
};
