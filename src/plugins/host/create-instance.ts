import { preloadSdk } from './extism.js';
import type { Instance, InstanceSpec, Placement } from './instance.js';

const instanceModule = (placement: Placement) => (placement === 'foreground' ? import('./foreground-instance.js') : import('./worker-instance.js'));

/**
 * Starts loading what an instance placed there needs (its module and the Extism SDK, the largest
 * file a plugin's job reads), so that it loads while the plugin's wasm is read and compiled, which
 * leave rpr's thread idle. A failure is left to createInstance to report.
 */
export function preloadInstance(placement: Placement): void {
  instanceModule(placement).catch(() => undefined);
  preloadSdk();
}

/** An instance where its spec places it; each kind is loaded by the first plugin placed there. */
export async function createInstance(spec: InstanceSpec): Promise<Instance> {
  if (spec.placement === 'foreground') return (await import('./foreground-instance.js')).ForegroundInstance.create(spec);
  return (await import('./worker-instance.js')).WorkerInstance.create(spec);
}
