/**
 * `rpr plugins new NAME --kind K --lang as|rust`: a plugin project, from templates/plugin/, that
 * builds and passes its own test (build, rpr plugins validate, install, a job) as generated.
 * plugins-src/rust-example/ is exactly what `rpr plugins new rust-example --kind scheduler --lang
 * rust` writes, with package.json's rpr.home pointing at this repository.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RprError } from '../errors/index.js';
import { CONTRACT, type PluginKind } from '../plugins/contract.js';
import { NAME_PATTERN } from '../plugins/manifest/parse.js';

const TEMPLATE_DIR = fileURLToPath(new URL('../../templates/plugin/', import.meta.url));
/** The rpr package this code runs from: generated projects find its dist/ and node_modules/ there. */
const RPR_HOME = fileURLToPath(new URL('../../', import.meta.url));

export type PluginLang = 'as' | 'rust';
const LANGS: PluginLang[] = ['as', 'rust'];

export interface ScaffoldOptions {
  name: string;
  kind: PluginKind;
  lang: PluginLang;
  /** The project folder to create (must not exist, or be empty). */
  dir: string;
  /** package.json rpr.home: absolute by default, relative for plugins-src/rust-example. */
  rprHome?: string;
}

const USAGE: Record<PluginKind, (name: string) => string> = {
  scheduler: (name) => `rpr ${name} --delay 1s --attempts 5 -- curl -f https://example.com/health`,
  executor: (name) => `rpr interval --every 10s --executor ${name} -- echo hello`,
  output: (name) => `rpr interval --every 10s --output ${name} -- date`,
};

/** Project files: relative path -> contents. */
export async function scaffoldFiles(options: ScaffoldOptions): Promise<Map<string, string>> {
  const { name, kind, lang } = options;
  const vars: Record<string, string> = {
    name,
    kind,
    lang,
    language: lang === 'rust' ? 'Rust (no crates)' : 'AssemblyScript',
    source: lang === 'rust' ? 'src/lib.rs' : 'src/index.ts',
    helper: lang === 'rust' ? 'src/rpr.rs' : 'src/rpr.ts',
    build_needs: lang === 'rust' ? '  (needs rustc + the wasm32-unknown-unknown std)' : '  (needs assemblyscript: npm install)',
    usage: USAGE[kind](name),
  };
  const fill = (text: string) => text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => vars[key] ?? whole);
  const read = (rel: string) => readFile(path.join(TEMPLATE_DIR, rel), 'utf8').then(fill);
  const ext = lang === 'rust' ? 'rs' : 'ts';
  const files = new Map<string, string>([
    ['plugin.toml', await read(`toml/${kind}.toml`)],
    ['build.mjs', await read('common/build.mjs')],
    ['test.mjs', await read('common/test.mjs')],
    ['README.md', await read('common/README.md')],
    ['.gitignore', await read('common/gitignore')],
    [lang === 'rust' ? 'src/lib.rs' : 'src/index.ts', await read(`${lang}/${kind}.${ext}`)],
    [`src/rpr.${ext}`, await read(`${lang}/rpr.${ext}`)],
  ]);
  const pkg = {
    name,
    private: true,
    type: 'module',
    description: `An rpr ${kind} plugin (ABI ${CONTRACT.abi})`,
    scripts: { build: 'node build.mjs', test: 'node test.mjs' },
    devDependencies: lang === 'rust' ? { 'smol-toml': '^1.9.1' } : { assemblyscript: '^0.28.20', 'smol-toml': '^1.9.1' },
    rpr: { home: options.rprHome ?? RPR_HOME.replace(/\/$/, '') },
  };
  files.set('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
  return files;
}

/** Writes the project; returns the files written (relative paths). */
export async function scaffold(options: ScaffoldOptions): Promise<string[]> {
  if (!NAME_PATTERN.test(options.name)) {
    throw new RprError('E_USAGE', `"${options.name}" is not a plugin name`, { hint: 'lower-case letters, digits and dashes, starting with a letter (it becomes the subcommand)' });
  }
  if (!CONTRACT.kinds.includes(options.kind)) throw new RprError('E_USAGE', `--kind must be one of ${CONTRACT.kinds.join(', ')}`);
  if (!LANGS.includes(options.lang)) throw new RprError('E_USAGE', `--lang must be one of ${LANGS.join(', ')}`);
  const existing = await readdir(options.dir).catch(() => null);
  if (existing && existing.length > 0) throw new RprError('E_USAGE', `${options.dir} already exists and is not empty`, { hint: 'choose another name or --dir' });
  const files = await scaffoldFiles(options);
  for (const [rel, text] of files) {
    const file = path.join(options.dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text, { mode: rel.endsWith('.mjs') ? 0o755 : 0o644 });
  }
  return [...files.keys()];
}
