// Preloaded with `node --import`: writes every file the process loads to RPR_LOADS_FILE, one URL a
// line. ES modules as they load, through the module hooks of record-loads.mjs; CommonJS files (the
// bundled CLI, the CommonJS packages) from require's cache as the process exits, since Node 20's
// hooks do not see require(). Node's own modules as `node:NAME` lines, from process.moduleLoadList.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

register(new URL('./record-loads.mjs', import.meta.url));
const { cache } = createRequire(import.meta.url);
process.on('exit', () => {
  appendFileSync(
    process.env.RPR_LOADS_FILE,
    [
      ...Object.keys(cache).map((file) => pathToFileURL(file).href),
      ...process.moduleLoadList.filter((entry) => entry.startsWith('NativeModule ')).map((entry) => `node:${entry.slice('NativeModule '.length)}`),
    ]
      .map((line) => `${line}\n`)
      .join(''),
  );
});
