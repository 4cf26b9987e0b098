import type { Worker } from 'node:worker_threads';
import { MillwrightError } from '../errors/index.ts';
import type { EncodedBatch } from './batch-builder.ts';
import { startWorker } from '../workers/index.ts';
import type { WriteReply, WriteRequest } from './write-worker.ts';

interface Slot {
  worker: Worker;
  busy: boolean;
  /** The dictionary (one per input) this worker holds, and how much of it it has. */
  dict: readonly string[] | undefined;
  sent: number;
}

/**
 * A fixed set of store-writer threads. `write` hands an encoded batch (typed arrays, moved, not
 * copied) to an idle writer and resolves once that batch is durable in the store.
 */
export class WriterPool {
  private readonly slots: Slot[];
  private readonly pending = new Map<number, { resolve: (r: { files: string[]; rows: number }) => void; reject: (e: Error) => void; slot: Slot }>();
  private nextId = 0;
  private waiters: (() => void)[] = [];

  constructor(
    readonly size: number,
    private readonly root: string,
  ) {
    this.slots = Array.from({ length: size }, () => {
      const slot: Slot = { worker: startWorker(new URL('./write-worker.ts', import.meta.url), null), busy: false, dict: undefined, sent: 0 };
      slot.worker.on('message', (m: WriteReply) => this.settle(m));
      slot.worker.on('error', (err) => this.fail(slot, err));
      slot.worker.on('exit', (code) => this.fail(slot, new Error(`store writer thread exited with code ${code}`)));
      return slot;
    });
  }

  private settle(m: WriteReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    p.slot.busy = false;
    this.waiters.shift()?.();
    if ('error' in m) {
      p.reject(MillwrightError.fromJSON(m.error));
    } else {
      p.resolve({ files: m.files, rows: m.rows });
    }
  }

  private fail(slot: Slot, err: Error): void {
    for (const [id, p] of this.pending) {
      if (p.slot !== slot) continue;
      this.pending.delete(id);
      p.reject(err);
    }
  }

  /** Writes one batch on an idle writer (waiting for one if all are busy). */
  async write(batch: EncodedBatch, dict: readonly string[]): Promise<{ files: string[]; rows: number }> {
    let slot = this.slots.find((s) => !s.busy);
    while (!slot) {
      await new Promise<void>((r) => this.waiters.push(r));
      slot = this.slots.find((s) => !s.busy);
    }
    slot.busy = true;
    const reset = slot.dict !== dict;
    if (reset) {
      slot.dict = dict;
      slot.sent = 0;
    }
    const req: WriteRequest = { id: this.nextId++, root: this.root, reset, dictAdds: dict.slice(slot.sent, batch.dictSize), batch };
    slot.sent = Math.max(slot.sent, batch.dictSize);
    const transfer = [batch.ts, batch.value, batch.site, batch.asset, batch.signal, batch.quality].filter((a) => a !== undefined).map((a) => a.buffer as ArrayBuffer);
    const s = slot;
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject, slot: s });
      s.worker.postMessage(req, [...new Set(transfer)]);
    });
  }

  /** Stops the writer threads (after in-flight writes, which the caller has awaited). */
  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
