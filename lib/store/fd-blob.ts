import { open, type FileHandle } from 'node:fs/promises';
import { MillwrightError } from '../errors/index.ts';

/**
 * A read-only Blob look-alike over an open file descriptor, for parquet-wasm's
 * `ParquetFile.fromFile`. Why not `fs.openAsBlob`: its reads fail once the file is unlinked (e.g. by
 * a concurrent `compact`), and parquet-wasm turns a failed read into a WebAssembly panic that kills
 * the process. An open descriptor keeps the file's data readable until it is closed (POSIX).
 */
export class FdBlob {
  constructor(
    private readonly fh: FileHandle,
    private readonly start: number,
    private readonly end: number,
  ) {}

  get size(): number {
    return this.end - this.start;
  }

  slice(from = 0, to = this.size): FdBlob {
    const clamp = (v: number) => Math.min(this.size, Math.max(0, Math.floor(v < 0 ? this.size + v : v)));
    const a = clamp(from);
    const b = Math.max(a, clamp(to));
    return new FdBlob(this.fh, this.start + a, this.start + b);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const out = new Uint8Array(this.size);
    let off = 0;
    while (off < out.length) {
      const { bytesRead } = await this.fh.read(out, off, out.length - off, this.start + off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return out.buffer;
  }
}

/** A store file that disappeared between listing and reading (a concurrent compaction): retryable. */
export function vanished(path: string, cause?: unknown): MillwrightError {
  return new MillwrightError('CONFLICT', `store file ${path} disappeared during the scan (a concurrent compact?); scan again`, {
    cause,
    details: { vanished: true, path },
  });
}

export function isVanished(err: unknown): boolean {
  return err instanceof MillwrightError && err.code === 'CONFLICT' && err.details?.vanished === true;
}

/** Opens `path` for {@link FdBlob}; a missing file becomes a retryable {@link vanished} error. */
export async function openFdBlob(path: string): Promise<{ blob: FdBlob; close: () => Promise<void> }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw vanished(path, err);
    throw err;
  }
  const { size } = await fh.stat();
  return { blob: new FdBlob(fh, 0, size), close: () => fh.close() };
}
