/**
 * dependency-cruiser rules (`npm run lint:deps`, run by CI), read from docs/ARCHITECTURE.md's module
 * table: the "may import" column is the rule, so the doc and the check cannot say different things.
 *
 * The column's grammar: a module name (any import of it), `name (types)` or `name (event types)` or
 * `name types` (type-only imports), `name (a/file, b)` (only src/name/a/file.ts and src/name/b.ts), `everything below`, `-`.
 * A module may always import its own files and src/version.ts and src/package-files.ts.
 */
const { readFileSync } = require('node:fs');
const path = require('node:path');

const doc = readFileSync(path.join(__dirname, 'docs/ARCHITECTURE.md'), 'utf8');
const rows = [...doc.matchAll(/^\| `(\w+)\/` \| .* \| ([^|]+) \|$/gm)].map(([, name, allowed]) => ({ name, allowed: allowed.trim() }));
if (rows.length < 10) throw new Error(`.dependency-cruiser.cjs: found ${rows.length} rows in docs/ARCHITECTURE.md's module table`);
const modules = rows.map((r) => r.name);

/** What `from` may import, as [module, kind, file] triples. */
function allowances(allowed) {
  if (allowed === '-') return [];
  if (allowed === 'everything below') return modules.map((m) => [m, 'any']);
  // Commas inside parentheses separate files of one module: `manage (integrity, permissions-text)`.
  return allowed.split(/,(?![^(]*\))/).flatMap((part) => {
    const m = part.trim().match(/^(\w+)(?: \(([\w /,-]+)\)| (types))?$/);
    if (!m || !modules.includes(m[1])) throw new Error(`.dependency-cruiser.cjs: cannot read "${part.trim()}" in docs/ARCHITECTURE.md's module table`);
    const qualifier = m[2] ?? m[3];
    if (!qualifier) return [[m[1], 'any']];
    if (/types$/.test(qualifier)) return [[m[1], 'types']];
    return qualifier.split(',').map((file) => [m[1], 'file', file.trim()]);
  });
}

const forbidden = [
  { name: 'no-circular', severity: 'error', comment: 'modules form layers: no import cycles, inside a module or across', from: {}, to: { circular: true } },
  { name: 'no-cli', severity: 'error', comment: 'nothing imports the CLI layer', from: { path: '^src/', pathNot: '^src/cli/' }, to: { path: '^src/cli/' } },
  { name: 'only-host-imports-extism', severity: 'error', from: { pathNot: '^src/plugins/host/' }, to: { path: '@extism/extism' } },
  { name: 'only-run-imports-execa', severity: 'error', from: { pathNot: '^src/run/' }, to: { path: 'node_modules/execa/' } },
  {
    name: 'only-redis-ts-imports-ioredis',
    severity: 'error',
    comment: 'others may name its types',
    from: { pathNot: '^src/coordinate/redis\\.ts$' },
    to: { path: 'node_modules/ioredis/', dependencyTypesNot: ['type-only'] },
  },
];

for (const { name, allowed } of rows) {
  const grants = allowances(allowed);
  for (const other of modules) {
    if (other === name) continue;
    const grant = grants.filter(([m]) => m === other);
    const to = `^src/${other}/`;
    if (grant.length === 0) {
      forbidden.push({ name: `${name}-not-${other}`, severity: 'error', comment: `docs/ARCHITECTURE.md: ${name}/ may import ${allowed}`, from: { path: `^src/${name}/` }, to: { path: to } });
    } else if (grant.every(([, kind]) => kind === 'types')) {
      forbidden.push({
        name: `${name}-${other}-types-only`,
        severity: 'error',
        comment: `docs/ARCHITECTURE.md: ${name}/ may import only types from ${other}/`,
        from: { path: `^src/${name}/` },
        to: { path: to, dependencyTypesNot: ['type-only'] },
      });
    } else if (grant.every(([, kind]) => kind === 'file')) {
      const files = grant.map(([, , file]) => `${file}\\.ts$`).join('|');
      forbidden.push({
        name: `${name}-${other}-files-only`,
        severity: 'error',
        comment: `docs/ARCHITECTURE.md: ${name}/ may import ${other}/ only for ${allowed}`,
        from: { path: `^src/${name}/` },
        to: { path: to, pathNot: `^src/${other}/(${files})` },
      });
    }
  }
}

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^(src/|node_modules/(execa|ioredis|@extism/extism)/)',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
