import { parseCommandArgs, usageError, type Command } from '../command.ts';
import { registryDir, storeRoot } from '../../lib/config/index.ts';
import { runPredictions } from '../../lib/predict/index.ts';

const usage = `millwright predict (--group G [--stage PROD] | --model-dir DIR) --site S (--every 2h | --cron EXPR) --window 6h --horizon 2h
                   [--step 1h] [--query SQL] [--endpoint URL] [--key K] [--store DIR] [--registry DIR] [--once] [--catch-up]

Scheduled predictions: at every slot (aligned to --every, or at the --cron times, UTC) reads the
last --window of readings from the store, builds the model's features (the default query, or
--query with {site} {from_ms} {to_ms} {slot_ms} {horizon_ms}), predicts --horizon ahead and writes
the rows to the store's predictions table (millwright sql: the predictions view). Each slot runs
once, even across a crash; slots missed while the process was down are caught up on restart.

  --once       run the slots due now (missed ones included), then exit
  --catch-up   run only the missed slots up to now, then exit (a backfill; same as --once)
  --endpoint   call POST <URL>/invocations instead of loading the model in-process

Prints one JSON line per slot: slot, status, rows, model version, inputs' range.
See docs/predictions.md.`;

/** `millwright predict`. */
export const predict: Command = {
  name: 'predict',
  summary: 'Scheduled predictions from the store into the predictions table (once per slot, caught up after downtime)',
  usage,
  async run(args, io) {
    const { values: v } = parseCommandArgs(args, {
      options: {
        group: { type: 'string' }, stage: { type: 'string' }, 'model-dir': { type: 'string' }, site: { type: 'string' },
        every: { type: 'string' }, cron: { type: 'string' }, window: { type: 'string' }, horizon: { type: 'string' }, step: { type: 'string' },
        query: { type: 'string' }, endpoint: { type: 'string' }, key: { type: 'string' }, store: { type: 'string' }, registry: { type: 'string' },
        once: { type: 'boolean' }, 'catch-up': { type: 'boolean' },
      },
    });
    if (!v.group && !v['model-dir']) throw usageError('predict needs --group G or --model-dir DIR');
    if (!v.site) throw usageError('predict needs --site S');
    if (!v.window || !v.horizon) throw usageError('predict needs --window (e.g. 6h) and --horizon (e.g. 2h)');
    if (!v.every === !v.cron) throw usageError('predict needs exactly one of --every (e.g. 2h) and --cron EXPR');
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await runPredictions({
        ...(v.group ? { group: v.group } : {}), ...(v.stage ? { stage: v.stage } : {}), ...(v['model-dir'] ? { modelDir: v['model-dir'] } : {}),
        ...(v.endpoint ? { endpoint: v.endpoint } : {}), ...(v.query ? { query: v.query } : {}), ...(v.key ? { key: v.key } : {}), ...(v.step ? { step: v.step } : {}),
        ...(v.every ? { every: v.every } : { cron: v.cron! }),
        registry: registryDir(v.registry, io.env, io.cwd), store: storeRoot(v.store, io.env, io.cwd), site: v.site, window: v.window, horizon: v.horizon,
        once: Boolean(v.once || v['catch-up']), signal: stop.signal,
        onModelChange: (c) => io.err(c.error ? `predict: ${c.group}: cannot check the promoted version (${c.error.message}); keeping version ${c.from}\n` : `predict: ${c.group}: promoted version changed ${c.from} -> ${c.to}; the next slots use it\n`),
        onSlot: (r) => io.out(`${JSON.stringify({ slot: new Date(r.slot).toISOString(), status: r.status, rows: r.rows.length, modelVersion: r.modelVersion, from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString(), ...(r.error ? { error: r.error.message } : {}), ...(r.recovered ? { recovered: true } : {}) })}\n`),
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    return 0;
  },
};

export const predictCommands: Command[] = [predict];
