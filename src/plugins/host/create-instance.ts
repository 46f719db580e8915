import type { Instance, InstanceSpec } from './instance.js';

/** An instance where its spec places it; each kind is loaded by the first plugin placed there. */
export async function createInstance(spec: InstanceSpec): Promise<Instance> {
  if (spec.placement === 'foreground') return (await import('./foreground-instance.js')).ForegroundInstance.create(spec);
  return (await import('./worker-instance.js')).WorkerInstance.create(spec);
}
