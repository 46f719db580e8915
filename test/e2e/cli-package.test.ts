/**
 * What `npm pack` ships (issue 15): no source map pointing at a file that is not in the package
 * (maps carry their sources), the man page, and a README that says what the test suite needs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The files npm would pack (as built: the build has run, so scripts are not run again). */
function packed(): string[] {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
}

describe('the npm package', () => {
  it('every source map it ships can show its sources: shipped beside it, or carried inside it', () => {
    const files = packed();
    const shipped = new Set(files);
    const maps = files.filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    const dangling: string[] = [];
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(readFileSync(path.join(ROOT, map), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      sources.forEach((source, i) => {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(map), source));
        if (!shipped.has(target) && !sourcesContent?.[i]) dangling.push(`${map} -> ${source}`);
      });
    }
    expect(dangling).toEqual([]);
  });

  it("ships the bundle rpr runs, not tsc's files of src/cli/ (dist/cli-modules/, for the tests)", () => {
    const files = packed();
    expect(files).toContain('dist/cli/bin.js');
    expect(files).toContain('dist/cli/package.json');
    expect(files.filter((f) => f.startsWith('dist/cli-modules/'))).toEqual([]);
  });

  it('ships the man page package.json names, and the LICENSE', () => {
    const files = packed();
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { man: string };
    expect(files).toContain(pkg.man.replace(/^\.\//, ''));
    expect(existsSync(path.join(ROOT, pkg.man))).toBe(true);
    expect(files).toContain('LICENSE');
  });

  it('the README lists what the test suite needs', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Develop'));
    for (const need of ['redis-server', 'redis-sentinel', 'sshd', 'curl', 'rustc', 'wasm32', 'lld', 'faketime', 'promtool', 'alertmanager', 'python3', 'man-db']) expect(section, need).toContain(need);
  });
});
