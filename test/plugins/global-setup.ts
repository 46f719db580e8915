// Vitest globalSetup: builds the fixture plugins once before any test file runs (cached by content
// hash, ~0.1 s when up to date). Each plugin test also calls ensureFixtures(), so the tests work
// without this registered; registering it just avoids parallel files racing to build.
import { ensureFixtures } from './helpers.js';

export default function setup(): void {
  ensureFixtures();
}
