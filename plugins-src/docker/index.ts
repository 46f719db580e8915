// docker: runs each run in a fresh container, `docker run --rm [options] IMAGE COMMAND...`. The plan
// names only "docker", the one program this plugin may have rpr spawn ([permissions] exec).
import { Config, initWith } from "../lib/config";
import { answerPlan, commandError, list, readCommand } from "../lib/executor";
import { fail } from "../lib/io";
export { describe } from "../lib/describe";

let image = "";
let volumes: string[] = [];
let envs: string[] = [];
let network = "";
let user = "";
let workdir = "";
let extra: string[] = [];

function configure(c: Config): string | null {
  image = c.str("image").trim();
  if (image.length == 0 || image.startsWith("-")) return "image must name a Docker image, e.g. alpine:3.20";
  volumes = list(c.str("volume"));
  envs = list(c.str("env"));
  network = c.str("network").trim();
  user = c.str("user").trim();
  workdir = c.str("workdir").trim();
  extra = list(c.str("args"));
  for (let i = 0; i < envs.length; i++) {
    if (envs[i].startsWith("=")) return 'env: "' + envs[i] + '" has no variable name';
  }
  return null;
}

export function init(): i32 {
  return initWith(configure);
}

export function plan(): i32 {
  const command = readCommand();
  if (command === null) return fail(commandError);
  const argv: string[] = ["docker", "run", "--rm"];
  if (network.length > 0) argv.push("--network=" + network);
  if (user.length > 0) argv.push("--user=" + user);
  if (workdir.length > 0) argv.push("--workdir=" + workdir);
  for (let i = 0; i < volumes.length; i++) argv.push("--volume=" + volumes[i]);
  for (let i = 0; i < envs.length; i++) argv.push("--env=" + envs[i]);
  for (let i = 0; i < extra.length; i++) argv.push(extra[i]);
  argv.push(image);
  for (let i = 0; i < command.argv.length; i++) argv.push(command.argv[i]);
  return answerPlan(argv, [], command.cwd);
}
