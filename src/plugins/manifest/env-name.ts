/**
 * The environment variable that carries a plugin setting: RPR_PLUGIN_<NAME>__<KEY>, upper case,
 * every other character an underscore (RPR_PLUGIN_ELASTICSEARCH__API_KEY). The double underscore
 * cannot occur in the name part (names are letters, digits and single dashes), so a variable
 * belongs to exactly one plugin. The earlier single-underscore form let a plugin named
 * `slack-webhook` with a setting `url` read RPR_PLUGIN_SLACK_WEBHOOK_URL, the bundled slack plugin's
 * secret. Two keys of one plugin that would share a variable are refused in its manifest.
 */
const part = (text: string): string => text.toUpperCase().replace(/[^A-Z0-9]/g, '_');

export const pluginEnvName = (plugin: string, key: string): string => `RPR_PLUGIN_${part(plugin)}__${part(key)}`;
