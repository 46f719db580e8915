// Preloaded with `node --require` (CommonJS, so that no module hook loads anything of its own): writes
// the names of Node's own modules the process loaded to RPR_BUILTINS_FILE as it exits, one a line.
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  const names = process.moduleLoadList.filter((entry) => entry.startsWith('NativeModule ')).map((entry) => entry.slice('NativeModule '.length));
  writeFileSync(process.env.RPR_BUILTINS_FILE, `${names.join('\n')}\n`);
});
