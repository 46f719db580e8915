/**
 * The few WebAssembly JS API calls the host needs, typed locally: the project's tsconfig has no DOM
 * lib (which is where TypeScript declares WebAssembly), and a global declaration here would collide
 * with anyone who adds it later.
 */
export interface CompiledModule {
  readonly __compiledWasmModule: unique symbol;
}

interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<CompiledModule>;
  validate(bytes: Uint8Array): boolean;
  Instance: new (module: CompiledModule, imports: Record<string, Record<string, unknown>>) => unknown;
}

const api = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** Whether V8 would compile the module (a full decode and type check, no code made). */
export function validWasm(bytes: Uint8Array): boolean {
  return api.validate(bytes);
}

export function compileWasm(bytes: Uint8Array): Promise<CompiledModule> {
  return api.compile(bytes);
}

/** Instantiates with the given imports and drops the instance: it only checks instantiation works. */
export function trialInstantiate(module: CompiledModule, imports: Record<string, Record<string, unknown>>): void {
  new api.Instance(module, imports);
}
