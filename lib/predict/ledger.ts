import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { withLock, writeFileAtomic, type LockOptions } from '../durable/index.ts';
import { PREDICTIONS_DIR } from '../store/index.ts';

/** What became of one slot. */
export type SlotStatus = 'done' | 'failed' | 'no-input' | 'skipped';

/** One slot in the ledger. */
export interface SlotEntry {
  slot: number;
  status: SlotStatus;
  /** When it was marked (epoch ms). */
  at: number;
  rows?: number;
  file?: string;
  modelVersion?: string;
  error?: string;
  /** The predictions file was found written but unmarked (a crash between write and mark) and was kept. */
  recovered?: boolean;
}

/** `<store>/predictions/.ledger/<key>.json`. */
export interface LedgerRecord {
  format: 1;
  key: string;
  /** The newest slot marked: slots up to it are never run again. */
  lastSlot?: number;
  /** The most recent entries, oldest first (at most {@link LEDGER_KEEP}). */
  slots: SlotEntry[];
}

/** Entries kept in a ledger file (older ones are dropped; `lastSlot` keeps the guarantee). */
export const LEDGER_KEEP = 1000;

/**
 * The slot ledger of one prediction schedule: which slots ran, persisted with the durable
 * atomic write (temp file, fsync, rename, fsync dir) and guarded by the one lock, so two
 * schedulers on the same key never run a slot twice.
 */
export class SlotLedger {
  readonly file: string;
  readonly lockFile: string;

  constructor(store: string, readonly key: string, private readonly lock: LockOptions = {}) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(key)) throw new MillwrightError('BAD_INPUT', `schedule key ${JSON.stringify(key)} must be letters, digits, ".", "_" or "-"`);
    const dir = join(resolve(store), PREDICTIONS_DIR, '.ledger');
    this.file = join(dir, `${key}.json`);
    this.lockFile = join(dir, `${key}.lock`);
  }

  async read(): Promise<LedgerRecord> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { format: 1, key: this.key, slots: [] };
      throw err;
    }
    try {
      const rec = JSON.parse(text) as LedgerRecord;
      if (rec.format !== 1 || !Array.isArray(rec.slots)) throw new Error('not a format-1 ledger');
      return rec;
    } catch (err) {
      throw new MillwrightError('INTEGRITY', `slot ledger ${this.file} is unreadable: ${(err as Error).message}`);
    }
  }

  /** Whether a slot is already marked (at or before the last marked slot). */
  static has(rec: LedgerRecord, slot: number): boolean {
    return rec.lastSlot !== undefined && slot <= rec.lastSlot;
  }

  /** Marks slots (durably) and returns the new record. */
  async mark(entries: SlotEntry[]): Promise<LedgerRecord> {
    const rec = await this.read();
    for (const e of entries) {
      rec.slots.push(e);
      rec.lastSlot = Math.max(rec.lastSlot ?? -Infinity, e.slot);
    }
    if (rec.slots.length > LEDGER_KEEP) rec.slots.splice(0, rec.slots.length - LEDGER_KEEP);
    await writeFileAtomic(this.file, `${JSON.stringify(rec, null, 1)}\n`);
    return rec;
  }

  /** Runs `fn` holding the schedule's lock. */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(this.lockFile, fn, { staleMs: false, ...this.lock });
  }
}
