import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import express, { type Router } from 'express';
import { escapeHtml } from '../reports/render/escape-html.ts';

export interface ReportEntry {
  /** Path relative to the reports directory, with `/` separators. */
  path: string;
  bytes: number;
  modified: string;
}

/** Report files (HTML, JSON, SVG, CSV) under `dir`, newest first. */
export async function listReports(dir: string): Promise<ReportEntry[]> {
  let rels: string[];
  try {
    rels = (await readdir(dir, { recursive: true })) as string[];
  } catch {
    return [];
  }
  const out: ReportEntry[] = [];
  for (const rel of rels) {
    if (!/\.(html|json|svg|csv|md|txt)$/i.test(rel) || rel.split(/[\\/]/).some((p) => p.startsWith('.'))) continue;
    try {
      const s = await stat(join(dir, rel));
      if (s.isFile()) out.push({ path: rel.split('\\').join('/'), bytes: s.size, modified: s.mtime.toISOString() });
    } catch {
      // removed while listing
    }
  }
  return out.sort((a, b) => (a.modified < b.modified ? 1 : a.modified > b.modified ? -1 : a.path.localeCompare(b.path)));
}


/** Index page: every report, newest first, linked. */
export function reportsIndexHtml(entries: ReportEntry[]): string {
  const rows = entries
    .map((e) => `<tr><td><a href="${escapeHtml(e.path.split('/').map(encodeURIComponent).join('/'))}">${escapeHtml(e.path)}</a></td><td>${e.modified}</td><td>${e.bytes}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>millwright reports</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:4px 12px;border-bottom:1px solid #ddd;text-align:left}</style>
</head><body><h1>Reports</h1>
${entries.length === 0 ? '<p>No reports yet.</p>' : `<table><thead><tr><th>report</th><th>modified (UTC)</th><th>bytes</th></tr></thead><tbody>\n${rows}\n</tbody></table>`}
</body></html>
`;
}

/**
 * `/reports/`: an index (HTML, or JSON with `Accept: application/json` or `/reports/index.json`)
 * and the files themselves, read-only. Dotfiles and paths outside the directory are refused.
 */
export function reportsRouter(dir: string): Router {
  const router = express.Router();
  router.get(['/', '/index.json'], async (req, res) => {
    const entries = await listReports(dir);
    if (req.path === '/index.json' || (req.accepts(['text/html', 'application/json']) === 'application/json' && !req.accepts('text/html'))) {
      res.json({ reports: entries });
    } else {
      res.type('html').send(reportsIndexHtml(entries));
    }
  });
  router.use(express.static(dir, { dotfiles: 'deny', index: false, fallthrough: true, maxAge: 0 }));
  return router;
}
