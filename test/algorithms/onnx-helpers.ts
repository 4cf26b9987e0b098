import { spawnSync } from 'node:child_process';

/** Runs Debian python3-onnx's checker (full_check: shape inference too) on a file; returns stderr on failure. */
export function onnxCheck(file: string): { ok: boolean; output: string } {
  const r = spawnSync(
    '/usr/bin/python3',
    ['-c', 'import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print("ok")', file],
    { encoding: 'utf8' },
  );
  return { ok: r.status === 0 && r.stdout.trim() === 'ok', output: `${r.stdout}${r.stderr}` };
}
