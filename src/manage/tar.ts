/**
 * A small, strict reader for the .tar.gz archives a plugin is published as (no package in the
 * project reads tar, and a plugin archive needs very little of the format): node:zlib gunzips with
 * an output cap, then ustar/pax/GNU headers are read in memory. Nothing touches the disk here.
 *
 * Accepted: regular files and directories; names from pax `path` records and GNU long names.
 * Refused: links (symbolic or hard), devices, FIFOs, absolute names, `..`, a bad header checksum,
 * more than MAX_ENTRIES entries, more than `maxBytes` unpacked.
 */
import { gunzipSync } from 'node:zlib';

const MAX_ENTRIES = 256;

export class TarError extends Error {}

const text = (block: Buffer, start: number, length: number): string => {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
};

function octal(block: Buffer, start: number, length: number, what: string): number {
  if (block[start]! & 0x80) throw new TarError(`${what} uses base-256 encoding (too large for a plugin)`);
  const s = text(block, start, length).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarError(`${what} is not an octal number`);
  return parseInt(s, 8);
}

function checksumOk(block: Buffer): boolean {
  const stored = octal(block, 148, 8, 'checksum');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === stored;
}

/** pax extended header records: "LEN key=value\n". */
function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const len = Number(data.subarray(at, space).toString('ascii'));
    if (!Number.isInteger(len) || len <= 0 || at + len > data.length) throw new TarError('malformed pax header');
    const record = data.subarray(space + 1, at + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += len;
  }
  return out;
}

/** A safe relative path ("a/b"), or a TarError. */
export function safeName(name: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (name.startsWith('/') || parts.includes('..') || name.includes('\\') || name.includes('\0')) throw new TarError(`entry "${name}" would be written outside the plugin's folder`);
  return parts.join('/');
}

/** Gunzips and reads `gz`: file path -> contents (directories are implied by the paths). */
export function readTarGz(gz: Uint8Array, maxBytes: number): Map<string, Buffer> {
  let tar: Buffer;
  try {
    tar = gunzipSync(gz, { maxOutputLength: maxBytes });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TarError(code === 'ERR_BUFFER_TOO_LARGE' ? `it unpacks to more than ${maxBytes} bytes` : `not a gzip file (${(error as Error).message})`);
  }
  const files = new Map<string, Buffer>();
  let at = 0;
  let entries = 0;
  let longName: string | undefined;
  let pax: Record<string, string> = {};
  while (at + 512 <= tar.length) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break; // end of archive
    if (++entries > MAX_ENTRIES) throw new TarError(`more than ${MAX_ENTRIES} entries`);
    if (!checksumOk(header)) throw new TarError(`bad header checksum at byte ${at}`);
    const size = octal(header, 124, 12, 'entry size');
    const type = String.fromCharCode(header[156]!);
    const dataStart = at + 512;
    if (dataStart + size > tar.length) throw new TarError('archive ends in the middle of an entry');
    const data = tar.subarray(dataStart, dataStart + size);
    at = dataStart + Math.ceil(size / 512) * 512;
    const magic = text(header, 257, 6);
    const prefix = magic.startsWith('ustar') ? text(header, 345, 155) : '';
    const rawName = longName ?? pax.path ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    if (type === 'x') {
      pax = paxRecords(data);
      continue;
    }
    if (type === 'g') continue; // global pax header: nothing we use
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    longName = undefined;
    pax = {};
    const name = safeName(rawName);
    if (type === '5') continue;
    if (type !== '0' && type !== '\0' && type !== '7') {
      const kinds: Record<string, string> = { '1': 'a hard link', '2': 'a symbolic link', '3': 'a device', '4': 'a device', '6': 'a FIFO' };
      throw new TarError(`entry "${rawName}" is ${kinds[type] ?? `of type ${JSON.stringify(type)}`}; a plugin archive may only hold files and folders`);
    }
    if (name === '') throw new TarError('an entry has an empty name');
    if (files.has(name)) throw new TarError(`entry "${name}" appears twice`);
    files.set(name, Buffer.from(data));
  }
  return files;
}
