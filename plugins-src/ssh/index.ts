// ssh: runs each run on another machine, `ssh [options] -- HOST 'COMMAND...'`. The remote shell sees
// each argument single-quoted, so it gets exactly the argv rpr was given. BatchMode: ssh never
// prompts for a password or a host key (a prompt would hang the run). ConnectTimeout (connect-timeout,
// 10 s by default): an unreachable host fails the run in seconds instead of waiting out the system's
// TCP timeout (a minute or two). The plan names only "ssh", the one program this plugin may have rpr
// spawn ([permissions] exec).
import { Config, initWith } from "../lib/config";
import { answerPlan, commandError, list, readCommand } from "../lib/executor";
import { fail } from "../lib/io";
export { describe } from "../lib/describe";

let host = "";
let port: i32 = 22;
let identity = "";
let options: string[] = [];
let remoteDir = "";
let connectTimeoutS: i32 = 10;

function configure(c: Config): string | null {
  host = c.str("host").trim();
  if (host.length == 0 || host.startsWith("-") || host.includes(" ")) return "host must be [user@]host, got \"" + host + "\"";
  const p = c.num("port", 22);
  if (!(p >= 1 && p <= 65535) || p != Math.floor(p)) return "port must be 1-65535";
  port = <i32>p;
  identity = c.str("identity").trim();
  options = list(c.str("options"));
  for (let i = 0; i < options.length; i++) {
    if (!options[i].includes("=")) return 'options: "' + options[i] + '" is not Name=value (an ssh -o option)';
  }
  remoteDir = c.str("remote-dir").trim();
  const timeoutMs = c.num("connect-timeout", 10000);
  if (!(timeoutMs >= 1000)) return "connect-timeout must be 1s or more";
  connectTimeoutS = <i32>Math.ceil(timeoutMs / 1000);
  return null;
}

export function init(): i32 {
  return initWith(configure);
}

/** POSIX shell single quoting: 'it'\''s'. */
function shellQuote(s: string): string {
  if (s.length > 0) {
    let plain = true;
    for (let i = 0; i < s.length && plain; i++) {
      const c = s.charCodeAt(i);
      plain = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x5f || c == 0x2e || c == 0x2f || c == 0x3d || c == 0x3a || c == 0x2c || c == 0x40;
    }
    if (plain) return s;
  }
  return "'" + s.replaceAll("'", "'\\''") + "'";
}

export function plan(): i32 {
  const command = readCommand();
  if (command === null) return fail(commandError);
  const argv: string[] = ["ssh", "-p", port.toString(), "-o", "BatchMode=yes"];
  // An explicit ConnectTimeout in options wins (ssh takes the first value it is given).
  let ownTimeout = false;
  for (let i = 0; i < options.length; i++) if (options[i].toLowerCase().startsWith("connecttimeout=")) ownTimeout = true;
  if (!ownTimeout) {
    argv.push("-o");
    argv.push("ConnectTimeout=" + connectTimeoutS.toString());
  }
  if (identity.length > 0) {
    argv.push("-i");
    argv.push(identity);
    argv.push("-o");
    argv.push("IdentitiesOnly=yes");
  }
  for (let i = 0; i < options.length; i++) {
    argv.push("-o");
    argv.push(options[i]);
  }
  argv.push("--");
  argv.push(host);
  const words: string[] = [];
  for (let i = 0; i < command.argv.length; i++) words.push(shellQuote(command.argv[i]));
  let remote = words.join(" ");
  if (remoteDir.length > 0) remote = "cd " + shellQuote(remoteDir) + " && " + remote;
  argv.push(remote);
  return answerPlan(argv, [], command.cwd);
}
