import { resolve } from 'node:path';
import { parseCommandArgs, usageError, type Command } from '../command.ts';
import { loadPlant } from '../../lib/plant/index.ts';
import { plantsDir, storeRoot } from '../../lib/config/index.ts';
import { parseDuration } from '../../lib/units/index.ts';
import { AlarmStateDir, loadAlarmRules, runAlarms } from '../../lib/alarms/index.ts';
import { assetRows, loadAssetModel } from '../../lib/gateway/index.ts';
import { AlarmFeed, createOutbox, loadNotifyConfig, type AlarmFeedSnapshot } from '../../lib/notify/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';

function time(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(/T.*([zZ]|[+-]\d\d:?\d\d)$/.test(v) || !v.includes('T') ? v : `${v}Z`);
  if (!Number.isFinite(ms)) throw usageError(`--${flag} ${v}: expected an ISO 8601 time (2024-01-10 or 2024-01-10T06:00:00Z) or epoch ms`);
  return ms;
}

const iso = (t: number | undefined) => (t === undefined || !Number.isFinite(t) ? '-' : new Date(t).toISOString());

/** After `alarms run --notify`: what was queued, then one delivery pass unless a daemon owns the outbox. */
async function deliverOnce(feed: AlarmFeed, dir: string, out: (s: string) => void): Promise<void> {
  const t = feed.totals;
  out(`notify: ${t.queued} notification(s) queued in ${dir} (${t.duplicates} already there, ${t.suppressed} inside flood windows)\n`);
  try {
    const d = await feed.outbox.run(undefined, { once: true, giveUpAfter: 5 });
    out(`notify: delivered ${d.delivered}, dead-lettered ${d.dead}${d.gaveUp.length ? `; ${d.gaveUp.join(', ')} did not answer (backlog kept for notify run/drain)` : ''}\n`);
  } catch (err) {
    if (!isErrorCode(err, 'CONFLICT')) throw err;
    out(`notify: ${err.message}: left to it\n`);
  }
}

const alarmsCommand: Command = {
  name: 'alarms',
  summary: 'Evaluate alarm rules over a store range; list, acknowledge and shelve alarms',
  usage: `millwright alarms run --rules FILE [--store DIR] [--site S] [--from T] [--to T] [--state DIR] [--notify FILE] [--dry-run]
millwright alarms list [--state DIR] [--all]
millwright alarms ack ID [--state DIR] [--note TEXT]
millwright alarms shelve ID --for DURATION [--state DIR] [--note TEXT]

run reads the site's readings in time order (one UTC day at a time), evaluates the rule file
(docs/alarms.md) and writes one row per alarm state change to the store's events table
(kind 'alarm'; 'alarm-flood' summaries). The same evaluator runs in the gateway (config key
alarms:), whose state dir is <spool>/.alarms. ack and shelve queue the operator's action in the
state dir; the evaluator that owns it applies it before its next batch (ID is rule/asset/signal).

  --rules FILE   rule file (YAML, or JSON by extension)
  --plant NAME   a plant config (<plants>/<NAME>/plant.yaml): its site and its "alarms" rule file
  --store DIR    store root (default: $MILLWRIGHT_STORE or ./.millwright/store)
  --site S       site (default: the store's only site)
  --from/--to T  range (ISO 8601 or epoch ms; to exclusive; default: all readings)
  --state DIR    alarm state dir: continue from it, apply queued acks (default ./.millwright/alarms)
  --notify FILE  run: a notify config (docs/notifications.md): each alarm state change (and flood
                 summary) goes into its outbox after its day is written; at the end the outbox is
                 delivered once (up to 5 attempts per channel) unless a "notify run" delivers it
  --dry-run      run: evaluate and print, write nothing
  --for D        shelve: how long (30m, 2h, 1d), on the readings' clock
  --all          list: also alarms in normal state

Example:
  millwright alarms run --rules rules.yaml --from 2024-01-01 --to 2024-02-01
  millwright alarms ack bands/line02-bearing/vib_x_rms --note "bearing ordered"`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      allowPositionals: true,
      options: {
        rules: { type: 'string' }, store: { type: 'string' }, site: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
        plant: { type: 'string' }, plants: { type: 'string' },
        state: { type: 'string' }, notify: { type: 'string' }, 'dry-run': { type: 'boolean' }, for: { type: 'string' }, note: { type: 'string' }, all: { type: 'boolean' },
      },
    });
    const [verb, id, ...extra] = positionals;
    if (extra.length) throw usageError(`unexpected argument "${extra[0]}"`);
    const stateDir = new AlarmStateDir(resolve(io.cwd, values.state ?? '.millwright/alarms'));
    switch (verb) {
      case 'run': {
        if (values.plant) {
          const plant = await loadPlant(values.plant, { dir: plantsDir(values.plants, io.env, io.cwd) });
          if (!plant.alarms) throw usageError(`plant ${plant.name} has no "alarms" rule file: add one (millwright plant new ... --set alarms=rules.yaml) or pass --rules`);
          values.rules ??= plant.alarms;
          values.site ??= plant.site;
        }
        if (!values.rules) throw usageError('alarms run needs --rules FILE (or --plant NAME)');
        const store = storeRoot(values.store, io.env, io.cwd);
        const rules = await loadAlarmRules(resolve(io.cwd, values.rules), { loadAssets: async (p) => assetRows(await loadAssetModel(p), values.site ?? '') });
        const dry = values['dry-run'] === true;
        if (dry && values.notify) throw usageError('--notify and --dry-run exclude each other (a dry run writes nothing, the outbox included)');
        const log = (l: string) => io.err(`${l}\n`);
        const ncfg = values.notify ? await loadNotifyConfig(resolve(io.cwd, values.notify)) : undefined;
        const feed = ncfg ? new AlarmFeed(await createOutbox({ dir: ncfg.outbox, channels: ncfg.channels, routes: ncfg.routes, link: ncfg.link, retry: ncfg.retry, log })) : undefined;
        let r;
        try {
          r = await runAlarms(rules, {
            store, site: values.site, from: time('from', values.from), to: time('to', values.to),
            stateDir: dry ? undefined : stateDir.dir, write: !dry, log, onRows: feed ? (rows) => feed.push(rows) : undefined,
            attach: feed ? { restore: (a) => feed.restore(a.notify as AlarmFeedSnapshot | undefined), save: () => ({ notify: feed.snapshot() }) } : undefined,
          });
          if (feed) await deliverOnce(feed, ncfg!.outbox, io.out);
        } finally {
          await feed?.outbox.close();
        }
        const alarms = r.rows.filter((x) => x.kind === 'alarm');
        const raised = alarms.filter((x) => x.message?.includes('"state":"unack-active"'));
        io.out(`${r.site} ${iso(r.from)} .. ${iso(r.to)}: ${r.readings} readings (${r.evaluated} evaluated, ${r.late} late), ${rules.rules.length} rule(s)\n`);
        io.out(`${alarms.length} alarm state change(s), ${raised.length} raised, ${r.floods} flood summar${r.floods === 1 ? 'y' : 'ies'}${dry ? ' (dry run: nothing written)' : ` written to ${store}/events`}\n`);
        const byRule = new Map<string, number>();
        for (const x of raised) byRule.set(`${x.source} ${x.asset}`, (byRule.get(`${x.source} ${x.asset}`) ?? 0) + 1);
        for (const [k, n] of [...byRule].sort()) io.out(`  ${k}: ${n}\n`);
        return 0;
      }
      case 'list': {
        const snap = await stateDir.load();
        const alarms = Object.values(snap?.streams ?? {}).map((s) => s.alarm).filter((a) => values.all || a.state !== 'normal' || a.shelvedUntil !== undefined);
        if (alarms.length === 0) io.out(`no alarms${values.all ? '' : ' outside normal'} in ${stateDir.dir}\n`);
        for (const a of alarms.sort((x, y) => x.id.localeCompare(y.id))) {
          io.out(`${a.id}  ${a.state}${a.shelvedUntil !== undefined ? ` (shelved until ${iso(a.shelvedUntil)})` : ''}  ${a.severity}  value ${a.value} limit ${a.limit}  since ${iso(a.activeSince)}\n`);
        }
        for (const p of await stateDir.pending()) io.out(`pending: ${p.action.action} ${p.action.id} at ${iso(p.action.at)}${p.action.note ? ` (${p.action.note})` : ''}\n`);
        return 0;
      }
      case 'ack':
      case 'shelve': {
        if (!id) throw usageError(`alarms ${verb} expects an alarm ID (rule/asset/signal; see alarms list)`);
        const snap = await stateDir.load();
        if (snap && !snap.streams[id]) throw usageError(`no alarm "${id}" in ${stateDir.dir} (see millwright alarms list --all)`);
        let forMs: number | undefined;
        if (verb === 'shelve') {
          if (!values.for) throw usageError('alarms shelve needs --for DURATION (e.g. --for 2h)');
          forMs = parseDuration(values.for, { what: '--for', positive: true, code: 'USAGE' });
        }
        const file = await stateDir.queue({ action: verb, id, at: Date.now(), forMs, note: values.note });
        io.out(`${verb} ${id} queued (${file}); applied by the evaluator's next batch\n`);
        return 0;
      }
      default:
        throw usageError(verb ? `unknown verb "${verb}": expected run, list, ack or shelve` : 'missing verb: run, list, ack or shelve');
    }
  },
};

export const alarmsCommands: Command[] = [alarmsCommand];
