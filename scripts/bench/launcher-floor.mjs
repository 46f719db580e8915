// The floor of a run started through the launcher: Node and the launcher (dist/run/launcher.js)
// alone, `true` started N times back to back, with none of rpr's job around it. Run as a process by
// runs.mjs: node launcher-floor.mjs N
import path from 'node:path';
import { ROOT } from './common.mjs';

const { Launcher } = await import(path.join(ROOT, 'dist/run/launcher.js'));
// An idle launcher never keeps Node alive (rpr waits for it with a timer of its own).
const keepAlive = setInterval(() => undefined, 1000);
const launcher = await Launcher.start(() => {
  throw new Error('the launcher could not start a run');
});
if (typeof launcher === 'string') throw new Error(`no launcher: ${launcher}`);
const request = { argv: ['true'], shell: false, env: {}, stdout: 'inherit', stderr: 'inherit' };
for (let i = 0, n = Number(process.argv[2]); i < n; i++) {
  const run = launcher.launch(request, request.argv);
  const end = await run.ended;
  if (end.exitCode !== 0) throw new Error(`run ${i + 1} ended ${JSON.stringify(end)}`);
}
launcher.stop();
clearInterval(keepAlive);
