/**
 * V8 flags the serving process is started with (the Dockerfile's ENTRYPOINT, the benchmarks).
 * A 16 MiB young generation (V8's default starts at 1 MiB and grows to 16 MiB only under
 * pressure) means a scavenge every ~16 MiB of request garbage instead of every ~1-8 MiB: measured
 * on single-row CSV at 1,000 req/s, 67-88 µs of CPU per request instead of 104-143 (docs/benchmarks.md,
 * 2026-12-02). They must be on node's own command line: NODE_OPTIONS refuses them. They apply to
 * every isolate of the process (the HTTP thread and each worker), i.e. up to ~32 MiB more
 * reserved young-generation memory per thread.
 *
 * @example
 * import { SERVE_NODE_FLAGS } from 'millwright/serve';
 * spawn(process.execPath, [...SERVE_NODE_FLAGS, 'dist/cli/container.js', 'serve']);
 */
export const SERVE_NODE_FLAGS: readonly string[] = ['--min-semi-space-size=16', '--max-semi-space-size=16'];
