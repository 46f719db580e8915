// Module hooks (node --import, then module.register) that append every URL the process loads to
// the file in RPR_LOADS_FILE, one a line: what an invocation of the built CLI really reads.
import { appendFileSync } from 'node:fs';

export async function load(url, context, nextLoad) {
  appendFileSync(process.env.RPR_LOADS_FILE, `${url}\n`);
  return nextLoad(url, context);
}
