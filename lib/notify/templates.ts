import type { Notification } from './notification.ts';

/**
 * The link of a notification: `template` with `{asset}`, `{signal}`, `{rule}`, `{site}`,
 * `{from}`, `{to}` (ISO times), `{ts}`, `{key}` and `{query}` replaced, each URL-encoded. A base
 * URL without placeholders gets `?query=<the store query>` appended.
 */
export function linkFor(n: Notification, template: string | undefined): string | undefined {
  if (n.link) return n.link;
  if (!template) return undefined;
  const iso = (t: number | undefined) => (t === undefined ? '' : new Date(t).toISOString());
  const values: Record<string, string> = {
    asset: n.asset ?? '', signal: n.signal ?? '', rule: n.rule ?? '', site: n.site ?? '', key: n.key,
    ts: iso(n.ts), from: iso(n.since ?? n.ts), to: iso(n.until ?? n.ts), query: n.query ?? '',
  };
  if (!/\{[a-z]+\}/.test(template)) {
    return n.query ? `${template}${template.includes('?') ? '&' : '?'}query=${encodeURIComponent(n.query)}` : template;
  }
  return template.replace(/\{([a-z]+)\}/g, (m, k: string) => (k in values ? encodeURIComponent(values[k]!) : m));
}

/** The JSON body of a webhook and the payload of an MQTT message (one shape for both). */
export function renderJson(n: Notification, linkTemplate?: string): Record<string, unknown> {
  return {
    key: n.key,
    kind: n.kind,
    severity: n.severity,
    title: n.title,
    ts: new Date(n.ts).toISOString(),
    site: n.site,
    asset: n.asset,
    signal: n.signal,
    rule: n.rule,
    state: n.state,
    value: n.value,
    limit: n.limit,
    since: n.since === undefined ? undefined : new Date(n.since).toISOString(),
    until: n.until === undefined ? undefined : new Date(n.until).toISOString(),
    query: n.query,
    link: linkFor(n, linkTemplate),
  };
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Subject, plain text and HTML of an e-mail. */
export function renderEmail(n: Notification, linkTemplate?: string): { subject: string; text: string; html: string } {
  const link = linkFor(n, linkTemplate);
  const rows: [string, string | undefined][] = [
    ['What', n.rule ? `${n.rule} (${n.state ?? n.kind})` : n.kind],
    ['Asset', n.asset],
    ['Signal', n.signal],
    ['Value', n.value === undefined ? undefined : String(n.value)],
    ['Limit', n.limit === undefined ? undefined : String(n.limit)],
    ['Since', n.since === undefined ? undefined : new Date(n.since).toISOString()],
    ['At', new Date(n.ts).toISOString()],
    ['Severity', n.severity],
    ['Site', n.site],
    ['Query', n.query],
  ];
  const shown = rows.filter((r): r is [string, string] => r[1] !== undefined && r[1] !== '');
  const text = [n.title, '', ...shown.map(([k, v]) => `${k}: ${v}`), ...(link ? ['', link] : []), '', `key ${n.key}`].join('\n') + '\n';
  const html =
    `<!doctype html><html><body><h2>${esc(n.title)}</h2><table>` +
    shown.map(([k, v]) => `<tr><th align="left">${esc(k)}</th><td>${k === 'Query' ? `<code>${esc(v)}</code>` : esc(v)}</td></tr>`).join('') +
    `</table>${link ? `<p><a href="${esc(link)}">Open the readings</a></p>` : ''}<p style="color:#888">key ${esc(n.key)}</p></body></html>`;
  return { subject: `[millwright] ${n.title}`, text, html };
}
