/**
 * wit/contract.json, typed. The JSON file is the single machine-readable contract (its prose twin
 * is wit/rpr-plugin.wit); the host reads its limits and import table from here so that the test
 * comparing plugins against the file also pins what the host enforces.
 */
import { readFileSync } from 'node:fs';

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';
export type PluginKind = 'scheduler' | 'executor' | 'output';
export type HostFunctionPermission = 'time' | 'random' | 'system-load' | 'emit';

export interface FunctionSignature {
  name: string;
  params: ValType[];
  results: ValType[];
}

export interface ExportSpec {
  name: string;
  input: string;
  output: string;
}

interface HostFunctionSpec extends FunctionSignature {
  permission: HostFunctionPermission;
  denied: string;
  returns: string;
}

export interface Contract {
  abi: number;
  kinds: PluginKind[];
  export_signature: { params: ValType[]; results: ValType[] };
  exports: Record<PluginKind | 'all' | 'optional', ExportSpec[]> & { memory: string };
  host_functions: { module: string; functions: HostFunctionSpec[] };
  extism_env: { module: string; functions: FunctionSignature[] };
  wasi: { module: string };
  permissions: {
    host_functions: HostFunctionPermission[];
    defaults: { memory_mb: number; timeout_ms: number };
    ceilings: { memory_mb: number; timeout_ms: number };
  };
  limits: {
    answer_bytes: number;
    output_tail_bytes: number;
    http_response_bytes: number;
    http_timeout_ms: number;
    http_redirects: number;
    emit_payload_bytes: number;
    kept_state_bytes: number;
    topic_hops: number;
  };
  http_errors: { invalid: number; denied: number; too_large: number; failed: number; timeout: number };
}

/** Same relative path from src/plugins/ (tests) and dist/plugins/ (installed). */
const CONTRACT_PATH = new URL('../../wit/contract.json', import.meta.url);

export const CONTRACT: Contract = JSON.parse(readFileSync(CONTRACT_PATH, 'utf8')) as Contract;
export const ABI_VERSION: number = CONTRACT.abi;

/** Exports a plugin of `kind` must have (besides memory). */
export function requiredExports(kind: PluginKind): ExportSpec[] {
  return [...CONTRACT.exports.all, ...CONTRACT.exports[kind]];
}

/** Every export name a plugin of `kind` may have. */
export function allowedExports(kind: PluginKind): Set<string> {
  const names = [...requiredExports(kind), ...CONTRACT.exports.optional].map((e) => e.name);
  return new Set([...names, CONTRACT.exports.memory]);
}
