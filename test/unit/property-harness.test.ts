// The property harness catches what it promises to catch: a call that never answers (even a
// synchronous loop) and a rejection nobody handled; and a failing property names its seed.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { holds, PropertyBreach, Sandbox } from '../helpers/property.js';

const box = new Sandbox();
afterAll(() => box.close());

describe('property harness', () => {
  it('a synchronous endless loop is a hang, stopped at the limit; the next call works', async () => {
    const t0 = Date.now();
    await expect(box.call('spin', [], 300)).rejects.toThrow(PropertyBreach);
    expect(Date.now() - t0).toBeLessThan(5000);
    await expect(box.call('duration', ['1s'])).resolves.toMatchObject({ ok: true, value: 1000 });
  });

  it('an unhandled rejection is reported even though the call answered', async () => {
    await expect(box.call('leak', [])).rejects.toThrow(/unhandled rejection: Error: nobody awaits this/);
  });

  it('a thrown error comes back as data, with its code', async () => {
    await expect(box.call('duration', ['soon'])).resolves.toMatchObject({ ok: false, error: { rpr: true, code: 'E_DURATION', name: 'RprError' } });
  });

  it('a failing property reports its seed and how to replay it', async () => {
    const failing = holds(
      fc.asyncProperty(fc.nat(), async (n) => expect(n).toBeLessThan(0)),
      { seed: 42 },
    );
    await expect(failing).rejects.toThrow(/seed: 42[\s\S]*RPR_PROPERTY_SEED=42 RPR_PROPERTY_PATH=/);
  });
});
