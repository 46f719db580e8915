// HTTP through the host (Extism's http_request, which rpr routes through its own fetch: the
// plugin's [permissions].network is checked on every request and redirect hop, the time and the
// response size are capped). A refused or failed request is not an exception: it comes back as a
// status the host made up (403 denied, 400 invalid, 502 failed, 504 timeout, 507 too large) with
// a JSON body {"error": "..."}.
import { http_request, http_status_code } from "./env";
import { allocBytes, allocString, readBlockString, utf8 } from "./io";
import { JsonWriter, JType, parse } from "./json";

export class Header {
  constructor(public name: string, public value: string) {}
}

export class Response {
  /** Requests made to get this answer (requestWithRetries). */
  tries: i32 = 1;

  constructor(public status: i32, public body: string) {}

  get ok(): bool {
    return this.status >= 200 && this.status < 300;
  }
  /** Worth trying again: a server error or a connection that failed or timed out. */
  get retryable(): bool {
    return this.status == 0 || this.status == 429 || (this.status >= 500 && this.status != 501 && this.status != 505 && this.status != 507);
  }
  /** "after 3 tries" or "" for one. */
  get triesText(): string {
    return this.tries > 1 ? " after " + this.tries.toString() + " tries" : "";
  }
  /** One line for an error message: the status and the start of the body (the host's reason for its own statuses). */
  describe(): string {
    if (this.status == 0) return "no response";
    let detail = this.body;
    const v = parse(this.body);
    if (v !== null && v.isObject && v.has("error")) {
      const e = v.get("error")!;
      detail = e.type == JType.String ? e.s : e.toString();
    }
    detail = detail.replaceAll("\n", " ").trim();
    if (detail.length > 200) detail = detail.substring(0, 200) + "...";
    return "HTTP " + this.status.toString() + (detail.length > 0 ? ": " + detail : "");
  }
}

/**
 * Why `url` (the setting `key`) cannot be used, or null. Only http(s) URLs with a host; no
 * credentials in them (they would end up in error messages, and fetch refuses them anyway). The
 * URL itself is not repeated in the message: it may hold a token (Slack's does).
 */
export function checkUrl(key: string, url: string): string | null {
  const lower = url.toLowerCase();
  const authority = lower.startsWith("https://") || lower.startsWith("http://") ? urlHost(url) : "";
  if (authority.length == 0 || url.includes(" ")) return key + " must be an http:// or https:// URL with a host";
  if (authority.includes("@")) return key + " must not contain credentials (user:password@); use the plugin's auth settings";
  return null;
}

/** The URL's authority (host[:port]), for messages: never the path or query, which may hold a token. */
export function urlHost(url: string): string {
  const at = url.indexOf("://");
  const rest = at < 0 ? url : url.substring(at + 3);
  let end = rest.length;
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c == 0x2f || c == 0x3f || c == 0x23) {
      end = i;
      break;
    }
  }
  return rest.substring(0, end);
}

/** One request. `body` is sent as UTF-8 (ignored for GET/HEAD). */
export function request(method: string, url: string, headers: Header[], body: string | null): Response {
  const w = new JsonWriter().beginObject().str("method", method).str("url", url).key("headers").beginObject();
  for (let i = 0; i < headers.length; i++) w.str(headers[i].name, headers[i].value);
  w.endObject().endObject();
  const bodyOffset: u64 = body === null ? 0 : allocBytes(utf8(body));
  const answer = http_request(allocString(w.toString()), bodyOffset);
  const status = http_status_code();
  return new Response(status, readBlockString(answer));
}

/**
 * A request tried up to 1 + `retries` times while the answer is retryable (5xx, 429, connection
 * failed, timed out). There is no sleep in a plugin, so the retries follow each other at once;
 * the host's per-call time limit bounds the whole.
 */
export function requestWithRetries(method: string, url: string, headers: Header[], body: string | null, retries: i32): Response {
  let response = request(method, url, headers, body);
  let tries = 1;
  while (tries <= retries && !response.ok && response.retryable) {
    response = request(method, url, headers, body);
    tries++;
  }
  response.tries = tries;
  return response;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Base64 of the UTF-8 bytes of `text` (for Basic auth). */
export function base64(text: string): string {
  const bytes = utf8(text);
  const parts: string[] = [];
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (<u32>bytes[i] << 16) | (<u32>bytes[i + 1] << 8) | <u32>bytes[i + 2];
    parts.push(B64.charAt(n >> 18) + B64.charAt((n >> 12) & 63) + B64.charAt((n >> 6) & 63) + B64.charAt(n & 63));
  }
  const left = bytes.length - i;
  if (left == 1) {
    const n = <u32>bytes[i] << 16;
    parts.push(B64.charAt(n >> 18) + B64.charAt((n >> 12) & 63) + "==");
  } else if (left == 2) {
    const n = (<u32>bytes[i] << 16) | (<u32>bytes[i + 1] << 8);
    parts.push(B64.charAt(n >> 18) + B64.charAt((n >> 12) & 63) + B64.charAt((n >> 6) & 63) + "=");
  }
  return parts.join("");
}
