// Builds a bundled Rust plugin (plugins-src/NAME/lib.rs) for scripts/build-plugins.mjs: rustc called
// directly for wasm32-unknown-unknown, no cargo and no crates (the ABI glue is the Rust kit's own
// templates/plugin/rust/rpr.rs, included by the plugin).
//
// Reproducible only with the same compiler: the bundled binaries are made with Debian bookworm's
// rustc 1.63.0 (apt-get install rustc libstd-rust-dev-wasm32 lld, as CI does), so that is the one
// looked for ($RUSTC, /usr/bin/rustc, then rustc on PATH). Source paths are remapped, so the
// checkout's location does not end up in the wasm.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const RUSTC_VERSION = '1.63.0';
export const RUST_NOTE = `The bundled Rust plugins are built with rustc ${RUSTC_VERSION} and its wasm32 standard library (Debian bookworm: apt-get install rustc libstd-rust-dev-wasm32 lld); set $RUSTC to use one that is not on PATH.`;

/** The pinned rustc, with the wasm32-unknown-unknown standard library: { ok, rustc } or { ok: false, why }. */
export function findRustc() {
  const seen = [];
  for (const rustc of [process.env.RUSTC, '/usr/bin/rustc', 'rustc'].filter(Boolean)) {
    const version = spawnSync(rustc, ['--version'], { encoding: 'utf8' });
    if (version.status !== 0) continue;
    const v = version.stdout.trim();
    if (!v.startsWith(`rustc ${RUSTC_VERSION}`)) {
      seen.push(`${rustc} is ${v}`);
      continue;
    }
    const lib = spawnSync(rustc, ['--print', 'target-libdir', '--target', 'wasm32-unknown-unknown'], { encoding: 'utf8' });
    const dir = lib.stdout?.trim();
    if (lib.status === 0 && dir && existsSync(dir) && readdirSync(dir).some((f) => f.startsWith('libstd-'))) return { ok: true, rustc };
    seen.push(`${rustc} has no wasm32-unknown-unknown standard library`);
  }
  return { ok: false, why: `no rustc ${RUSTC_VERSION} with the wasm32 standard library${seen.length ? ` (${seen.join('; ')})` : ''}` };
}

// ---------------------------------------------------------------- the wasm's export section

function uleb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (let i = at; ; i++) {
    const b = bytes[i];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
  }
}

function encodeUleb(value) {
  const out = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return Buffer.from(out);
}

/**
 * The module without the exports named in `drop` (rustc always exports the linker's globals
 * __data_end and __heap_base; a bundled plugin exports exactly what wit/contract.json lists).
 */
export function dropExports(wasm, drop) {
  const parts = [wasm.subarray(0, 8)];
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at];
    const { value: size, next } = uleb(wasm, at + 1);
    const end = next + size;
    if (id !== 7) {
      parts.push(wasm.subarray(at, end));
      at = end;
      continue;
    }
    let { value: count, next: p } = uleb(wasm, next);
    const kept = [];
    for (let i = 0; i < count; i++) {
      const start = p;
      const len = uleb(wasm, p);
      const name = wasm.subarray(len.next, len.next + len.value).toString('utf8');
      p = uleb(wasm, len.next + len.value + 1).next; // kind byte, then the index
      if (!drop.includes(name)) kept.push(wasm.subarray(start, p));
    }
    const body = Buffer.concat([encodeUleb(kept.length), ...kept]);
    parts.push(Buffer.from([7]), encodeUleb(body.length), body);
    at = end;
  }
  return Buffer.concat(parts);
}

/** Compiles plugins-src/NAME/lib.rs; returns the wasm. */
export async function compileRust({ root, dir, describeJson, maxPages }) {
  const found = findRustc();
  if (!found.ok) throw new Error(`${found.why}\n${RUST_NOTE}`);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'rpr-rust-'));
  try {
    const describe = path.join(tmp, 'describe.json');
    const out = path.join(tmp, 'plugin.wasm');
    await writeFile(describe, describeJson);
    const crate = path.basename(dir).replaceAll('-', '_');
    const args = [
      '--edition',
      '2021',
      '--crate-type',
      'cdylib',
      '--crate-name',
      crate,
      '--target',
      'wasm32-unknown-unknown',
      '-C',
      'opt-level=s',
      '-C',
      'panic=abort',
      '-C',
      'strip=symbols',
      '-C',
      'codegen-units=1',
      '-C',
      'lto=fat',
      '-C',
      `link-arg=--max-memory=${maxPages * 65536}`,
      '--remap-path-prefix',
      `${root.replace(/\/$/, '')}=rpr`,
      '-o',
      out,
      path.join(dir, 'lib.rs'),
    ];
    const r = spawnSync(found.rustc, args, { cwd: tmp, encoding: 'utf8', env: { ...process.env, RPR_DESCRIBE_JSON: describe } });
    if (r.status !== 0) throw new Error(`${found.rustc} failed for ${path.basename(dir)}:\n${r.stderr}${r.error ? r.error.message : ''}`);
    return dropExports(await readFile(out), ['__data_end', '__heap_base']);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
