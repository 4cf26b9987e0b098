import { readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { fsyncDir, mkdirDurable, readdirIfExists, uniqueId, writeFileAtomic } from '../durable/index.ts';
import type { EvaluatorSnapshot } from './evaluator.ts';

const STATE_FILE = 'alarms-state.json';
const ACTIONS_DIR = 'actions';

/** An operator's action, queued for the evaluator that owns the state. */
export interface OperatorAction {
  action: 'ack' | 'shelve';
  /** Alarm id, `rule/asset/signal`. */
  id: string;
  /** When the operator acted (epoch ms). */
  at: number;
  /** shelve: how long (ms), counted on the readings' clock from the alarm's latest reading time. */
  forMs?: number;
  note?: string;
}

/**
 * What else a caller keeps in the same file as the evaluator's snapshot, by name (JSON values):
 * the gateway keeps its notification feed's flood windows under `notify`, so the alarm state and
 * what was already notified are replaced by one atomic write and agree after a crash.
 */
export type AttachedState = Record<string, unknown>;

/**
 * The alarm state directory: the evaluator's snapshot (`alarms-state.json`, written atomically
 * after every batch, with any {@link AttachedState} under `attached`) and the operators' queued acknowledgements and shelves (`actions/*.json`,
 * one file each, written atomically). Operators never write the snapshot: the evaluator (the
 * gateway, or `alarms run`) applies queued actions before its next batch and only then deletes
 * them, so an ack survives a restart of either side.
 */
export class AlarmStateDir {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** The saved snapshot, or undefined when there is none yet. */
  async load(): Promise<EvaluatorSnapshot | undefined> {
    return (await this.loadAll())?.snapshot;
  }

  /** The saved snapshot and the state attached to it (one read of one file), or undefined when there is none yet. */
  async loadAll(): Promise<{ snapshot: EvaluatorSnapshot; attached: AttachedState } | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.dir, STATE_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const { attached, ...snapshot } = JSON.parse(text, (_k, v: unknown) => (v === null ? undefined : v)) as EvaluatorSnapshot & { attached?: AttachedState };
      return { snapshot: snapshot as EvaluatorSnapshot, attached: attached ?? {} };
    } catch (err) {
      throw new MillwrightError('INTEGRITY', `alarm state ${join(this.dir, STATE_FILE)} is not valid JSON (${(err as Error).message}); move it aside to start from normal`, { cause: err });
    }
  }

  /** Saves a snapshot and the state attached to it atomically (a crash leaves the previous pair). */
  async save(snap: EvaluatorSnapshot, attached?: AttachedState): Promise<void> {
    const text = JSON.stringify(attached && Object.keys(attached).length > 0 ? { ...snap, attached } : snap, (_k, v: unknown) => (v === -Infinity || v === Infinity || (typeof v === 'number' && Number.isNaN(v)) ? null : v));
    await writeFileAtomic(join(this.dir, STATE_FILE), text);
  }

  /** Queues an operator action durably; returns its file. */
  async queue(action: OperatorAction): Promise<string> {
    const dir = join(this.dir, ACTIONS_DIR);
    await mkdirDurable(dir);
    const file = join(dir, `act-${uniqueId()}.json`);
    await writeFileAtomic(file, JSON.stringify(action));
    return file;
  }

  /** Queued actions, oldest first, with their files. */
  async pending(): Promise<{ file: string; action: OperatorAction }[]> {
    const dir = join(this.dir, ACTIONS_DIR);
    const out: { file: string; action: OperatorAction }[] = [];
    for (const f of (await readdirIfExists(dir)).filter((x) => x.startsWith('act-') && x.endsWith('.json')).sort()) {
      out.push({ file: join(dir, f), action: JSON.parse(await readFile(join(dir, f), 'utf8')) as OperatorAction });
    }
    return out;
  }

  /** Deletes applied action files (after the snapshot that includes them is saved). */
  async done(files: string[]): Promise<void> {
    if (files.length === 0) return;
    for (const f of files) await unlink(f).catch(() => {});
    await fsyncDir(join(this.dir, ACTIONS_DIR));
  }
}
