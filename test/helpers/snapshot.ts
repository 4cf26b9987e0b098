import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

/**
 * Observable Plot style snapshot check of `actual` against the golden file `file`.
 *
 * - Golden file missing: under CI (`CI` set) that is a failure, since a snapshot written there
 *   would only be compared with itself; elsewhere it is written (and a diagnostic says so) so it
 *   can be reviewed and committed.
 * - Mismatch: `actual` is written beside the golden file as `<name>-changed.<ext>` (ignored by
 *   git) and the check fails naming both files, so the two can be diffed or the changed one
 *   moved over the golden file to accept it. `UPDATE_SNAPSHOTS=1` overwrites the golden file instead.
 * - Match: a stale `-changed` file from an earlier run is removed.
 */
export function assertSnapshot(file: string, actual: string): void {
  const ext = extname(file);
  const changed = join(dirname(file), `${basename(file, ext)}-changed${ext}`);
  if (!existsSync(file) || process.env.UPDATE_SNAPSHOTS === '1') {
    if (!existsSync(file) && process.env.CI) {
      assert.fail(`snapshot ${file} is missing; under CI it is not written (run the test locally and commit it)`);
    }
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    rmSync(changed, { force: true });
    console.log(`# wrote snapshot ${file}: review it and commit it`);
    return;
  }
  if (readFileSync(file, 'utf8') === actual) {
    rmSync(changed, { force: true });
    return;
  }
  writeFileSync(changed, actual);
  assert.fail(`${changed} differs from the snapshot ${file}: compare the two; if the change is intended, move the first over the second (or rerun with UPDATE_SNAPSHOTS=1)`);
}
