// The `describe` export every plugin has. Its answer is generated from the plugin's own
// plugin.toml by scripts/build-plugins.mjs ([plugin] name/version/kind/description, the ABI of
// wit/contract.json and the whole [config] schema), which supplies the module "./description" to
// the compiler for each plugin. There is no such file on disk: plugin.toml is the one place a
// plugin's name, version and settings are written, so the bare .wasm and its manifest cannot
// disagree. Re-export it from the plugin's index.ts:  export { describe } from "../lib/describe";
import { DESCRIPTION } from "./description";
import { output } from "./io";

export function describe(): i32 {
  output(DESCRIPTION);
  return 0;
}
