import { readFile, writeFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CliIO } from '../command.ts';
import { usageError } from '../command.ts';
import { MillwrightError } from '../../lib/errors/index.ts';
import { listGroups, listVersions, promoteVersion, readLineage, readStages, rollbackStage, setTestPayloads, STAGES, type RegistryOptions } from '../../lib/model/index.ts';
import { httpFunctionalCheck } from '../../serve/functional-check.ts';
import { renderBoard, type BoardRow } from '../../reports/board.ts';

/** Usage lines of the stage verbs, inside `millwright registry --help`. */
export const STAGE_USAGE = `  promote G VERSION --to DEV|TEST|PROD [--note TEXT]
                                    TEST and PROD first serve the version on 127.0.0.1 and POST the
                                    group's test payloads (outputs within tolerance, latency limit);
                                    PROD also needs the version Approved and a passed TEST
  rollback G --stage STAGE          return the stage to its previous stable version
  stages G                          what each stage holds, with its history
  payloads G FILE                   record the group's functional-check payloads (JSON list of
                                    {name, contentType, body, expected, tolerance?, maxLatencyMs?})
  lineage G VERSION                 the pipeline that produced a version: prepare -> train -> evaluate
                                    -> register, inputs and outputs by content hash
  board [--out FILE] [--reports DIR]  HTML status board of every group (DIR/<group>/<kind>/report.json
                                    adds the latest report verdicts)`;

/** Flags the stage verbs read. */
export interface StageFlags {
  to?: string;
  stage?: string;
  note?: string;
  out?: string;
  reports?: string;
  json?: boolean;
}

async function reportVerdicts(dir: string | undefined, group: string): Promise<BoardRow['reports']> {
  if (!dir) return [];
  const out: BoardRow['reports'] = [];
  for (const kind of ['quality', 'drift', 'model', 'energy', 'energy-performance']) {
    try {
      const r = JSON.parse(await readFile(join(dir, group, kind, 'report.json'), 'utf8')) as { status: string; generatedAt: string };
      out.push({ kind, status: r.status, generatedAt: r.generatedAt });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new MillwrightError('BAD_INPUT', `--reports: ${join(dir, group, kind, 'report.json')} is not a report: ${(err as Error).message}`);
    }
  }
  return out;
}

async function board(flags: StageFlags, opts: RegistryOptions & { cwd: string }, io: CliIO): Promise<number> {
  const rows: BoardRow[] = [];
  for (const g of await listGroups(opts)) {
    const stages = (await readStages(g.group, opts)).stages;
    const versions = await listVersions(g.group, opts);
    const last = versions.at(-1);
    rows.push({
      group: g.group,
      stages: Object.fromEntries(STAGES.flatMap((s) => (stages[s].length ? [[s, stages[s].at(-1)!.version]] : []))),
      ...(last ? { latest: { version: last.version, status: last.status, registeredAt: last.registeredAt, ...(last.metrics.holdout ? { holdout: last.metrics.holdout as Record<string, number> } : {}) } } : {}),
      reports: await reportVerdicts(flags.reports ? resolve(opts.cwd, flags.reports) : undefined, g.group),
    });
  }
  const out = resolve(opts.cwd, flags.out ?? join('.millwright', 'registry-board.html'));
  const tmp = `${out}.tmp-${process.pid}`;
  await writeFile(tmp, renderBoard(rows, new Date()));
  await rename(tmp, out);
  io.out(`board of ${rows.length} group(s)\n  ${out}\nopen ${pathToFileURL(out).href}\n`);
  return 0;
}

/** Runs a stage verb; returns undefined when `verb` is not one. */
export async function runStageVerb(verb: string | undefined, rest: string[], flags: StageFlags, opts: RegistryOptions & { cwd: string }, io: CliIO): Promise<number | undefined> {
  const note = flags.note ? { note: flags.note } : {};
  const print = (v: unknown) => (io.out(`${JSON.stringify(v, null, 2)}\n`), 0);
  switch (verb) {
    case 'promote': {
      if (rest.length !== 2) throw usageError('promote expects GROUP VERSION --to STAGE');
      if (!flags.to) throw usageError(`promote needs --to ${STAGES.join('|')}`);
      const { assignment, previous } = await promoteVersion(rest[0]!, rest[1]!, { ...opts, ...note, to: flags.to, check: httpFunctionalCheck() });
      if (flags.json) return print(assignment);
      io.out(`${rest[0]} ${flags.to}: version ${assignment.version}${previous !== undefined ? ` (was ${previous})` : ''}\n`);
      for (const c of assignment.check?.cases ?? []) io.out(`  [pass] ${c.name}: ${c.reason}\n`);
      return 0;
    }
    case 'rollback': {
      if (rest.length !== 1) throw usageError('rollback expects GROUP --stage STAGE');
      if (!flags.stage) throw usageError(`rollback needs --stage ${STAGES.join('|')}`);
      const r = await rollbackStage(rest[0]!, flags.stage, { ...opts, ...note });
      if (flags.json) return print(r);
      io.out(`${rest[0]} ${flags.stage}: rolled back from version ${r.from} to ${r.to}\n`);
      return 0;
    }
    case 'stages': {
      if (rest.length !== 1) throw usageError('stages expects GROUP');
      const s = await readStages(rest[0]!, opts);
      if (flags.json) return print(s);
      for (const stage of STAGES) {
        const h = s.stages[stage];
        io.out(`${stage.padEnd(4)} ${h.length ? `v${h.at(-1)!.version}` : '-'}${h.length > 1 ? `  (history: ${h.map((a) => `${a.kind === 'rollback' ? 'rollback->' : ''}v${a.version}`).join(' ')})` : ''}\n`);
      }
      return 0;
    }
    case 'payloads': {
      if (rest.length !== 2) throw usageError('payloads expects GROUP FILE');
      const file = resolve(opts.cwd, rest[1]!);
      const text = await readFile(file, 'utf8').catch((err: Error) => {
        throw new MillwrightError('NOT_FOUND', `cannot read ${file}: ${err.message}`);
      });
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw new MillwrightError('BAD_INPUT', `${file} is not JSON: ${(err as Error).message}`);
      }
      const payloads = await setTestPayloads(rest[0]!, value, opts);
      io.out(`${rest[0]}: ${payloads.length} test payload(s) recorded\n`);
      return 0;
    }
    case 'lineage': {
      if (rest.length !== 2) throw usageError('lineage expects GROUP VERSION');
      const l = await readLineage(rest[0]!, rest[1]!, opts);
      if (flags.json) return print(l);
      io.out(`${l.group} version ${l.version}: inputs ${l.inputsSha256.slice(0, 12)}…, model files ${l.modelFilesSha256.slice(0, 12)}…\n`);
      for (const step of l.steps) io.out(`  ${step.name.padEnd(9)} ${step.start} -> ${step.end}\n    in:  ${JSON.stringify(step.inputs).slice(0, 300)}\n    out: ${JSON.stringify(step.outputs).slice(0, 300)}\n`);
      if (l.reproduces) io.out(l.reproduces.identical ? `  same inputs as version ${l.reproduces.version}: identical model bytes (reproduced)\n` : `  same inputs as version ${l.reproduces.version} but different model bytes: training is not deterministic (seed?)\n`);
      return 0;
    }
    case 'board':
      return board(flags, opts, io);
    default:
      return undefined;
  }
}
