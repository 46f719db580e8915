// Run only by test/unit/skip-summary.test.ts, with test/skip-summary/vitest.config.ts.
import { describe, expect, it } from 'vitest';

const present = false;
if (!present) console.warn('SKIP the demo tool: it is not installed here');
describe.skipIf(!present)('with the tool', () => {
  it('one', () => expect(1).toBe(1));
  it('two', () => expect(2).toBe(2));
});
it('runs', () => expect(true).toBe(true));
