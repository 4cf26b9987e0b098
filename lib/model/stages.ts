/**
 * Registry stages DEV -> TEST -> PROD per model group, the promotion rules between them and
 * rollback. Each stage keeps its history of assignments in `<registry>/<group>/stages.json`
 * (written atomically under the registry lock), so "the previous stable version" of a stage is a
 * fact on disk, not a guess: rollback returns to the last version the stage held before the
 * current one that has not been rejected since.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { withLock, writeFileAtomic } from '../durable/index.ts';
import { checkGroup, checkVersion, LOCK_FILE, readRecord, resolveRegistry, verifyRegistered, type RegisteredModel, type RegistryOptions } from './registry.ts';
import { parseTestPayloads, type FunctionalCheck, type FunctionalCheckResult, type TestPayload } from './functional-check.ts';

/** The stages of a group, in promotion order. */
export const STAGES = ['DEV', 'TEST', 'PROD'] as const;
export type Stage = (typeof STAGES)[number];

/** One assignment of a version to a stage. */
export interface StageAssignment {
  version: number;
  at: string;
  kind: 'promote' | 'rollback';
  note?: string;
  /** The functional check that let it in (TEST and PROD). */
  check?: FunctionalCheckResult;
}

/** `stages.json`: per stage, its assignments oldest first (the last one is current). */
export interface StagesRecord {
  group: string;
  stages: Record<Stage, StageAssignment[]>;
}

const STAGES_FILE = 'stages.json';
const PAYLOADS_FILE = 'test-payloads.json';

function checkStage(stage: string): Stage {
  if (!(STAGES as readonly string[]).includes(stage)) throw new MillwrightError('BAD_INPUT', `unknown stage "${stage}": expected one of ${STAGES.join(', ')}`);
  return stage as Stage;
}

async function readStagesFile(root: string, group: string): Promise<StagesRecord> {
  const path = join(root, group, STAGES_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { group, stages: { DEV: [], TEST: [], PROD: [] } };
    throw err;
  }
  try {
    return JSON.parse(text) as StagesRecord;
  } catch {
    throw new MillwrightError('INTEGRITY', `registry stages ${path} is not valid JSON`);
  }
}

/**
 * The stages of a group and their histories.
 *
 * @example
 * import { readStages } from 'millwright';
 * (await readStages('plant-a')).stages.PROD.at(-1)?.version; // the version PROD serves
 */
export async function readStages(group: string, opts: RegistryOptions = {}): Promise<StagesRecord> {
  checkGroup(group);
  return readStagesFile(resolveRegistry(opts), group);
}

/**
 * The version a stage holds now, or undefined.
 *
 * @example
 * import { stageVersion } from 'millwright';
 * await stageVersion('plant-a', 'PROD'); // 4
 */
export async function stageVersion(group: string, stage: Stage | string, opts: RegistryOptions = {}): Promise<number | undefined> {
  const s = checkStage(stage);
  return (await readStages(group, opts)).stages[s].at(-1)?.version;
}

/**
 * Records the group's functional-check payloads (validated first).
 *
 * @example
 * import { setTestPayloads } from 'millwright';
 * await setTestPayloads('plant-a', JSON.parse(await readFile('payloads.json', 'utf8')));
 */
export async function setTestPayloads(group: string, payloads: unknown, opts: RegistryOptions = {}): Promise<TestPayload[]> {
  checkGroup(group);
  const parsed = parseTestPayloads(payloads);
  const root = resolveRegistry(opts);
  await withLock(join(root, LOCK_FILE), () => writeFileAtomic(join(root, group, PAYLOADS_FILE), `${JSON.stringify(parsed, null, 2)}\n`), opts.lock);
  return parsed;
}

/** The group's recorded test payloads (NOT_FOUND when none were recorded). */
export async function getTestPayloads(group: string, opts: RegistryOptions = {}): Promise<TestPayload[]> {
  checkGroup(group);
  const path = join(resolveRegistry(opts), group, PAYLOADS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MillwrightError('NOT_FOUND', `model group "${group}" has no test payloads: record them first (millwright registry payloads ${group} FILE)`);
    throw err;
  }
  return parseTestPayloads(JSON.parse(text), path);
}

/** Options of {@link promoteVersion}. */
export interface PromoteOptions extends RegistryOptions {
  to: Stage | string;
  note?: string;
  /** Runs the group's payloads against the version; required for TEST and PROD. */
  check?: FunctionalCheck;
}

async function assertEligible(root: string, group: string, version: number, to: Stage, stages: StagesRecord): Promise<RegisteredModel> {
  const record = await readRecord(root, group, version);
  if (record.status === 'Rejected') throw new MillwrightError('CONFLICT', `${group} version ${version} is Rejected; it cannot be promoted`);
  if (to === 'PROD') {
    if (record.status !== 'Approved') throw new MillwrightError('CONFLICT', `${group} version ${version} is ${record.status}; PROD needs a manual approval first (millwright registry approve ${group} ${version})`);
    const passedTest = stages.stages.TEST.some((a) => a.version === version && a.check?.passed);
    if (!passedTest) throw new MillwrightError('CONFLICT', `${group} version ${version} has not passed TEST; promote it to TEST first`);
  }
  const { dir, manifest } = await verifyRegistered(root, record);
  return { record, dir, manifest };
}

/**
 * Moves a version into a stage. DEV takes any version that is not rejected; TEST runs the
 * functional check first (the group's payloads against the version started as it will be
 * served) and refuses with CHECK_FAILED when any payload fails; PROD also needs the version
 * Approved (a manual approval) and a passed TEST, and runs the check again. Nothing is recorded
 * for a refused promotion.
 *
 * @example
 * import { promoteVersion } from 'millwright';
 * import { httpFunctionalCheck } from 'millwright/serve';
 * await promoteVersion('plant-a', 4, { to: 'TEST', check: httpFunctionalCheck() });
 */
export async function promoteVersion(group: string, version: number | string, opts: PromoteOptions): Promise<{ assignment: StageAssignment; previous?: number }> {
  checkGroup(group);
  const to = checkStage(opts.to);
  const n = checkVersion(version);
  const root = resolveRegistry(opts);
  const model = await assertEligible(root, group, n, to, await readStagesFile(root, group));
  let check: FunctionalCheckResult | undefined;
  if (to !== 'DEV') {
    if (!opts.check) throw new MillwrightError('BAD_INPUT', `promotion to ${to} needs a functional check (the CLI runs the model behind HTTP)`);
    // Outside the lock: a check starts a server and may take seconds.
    check = await opts.check(model, await getTestPayloads(group, opts));
    if (!check.passed) {
      const failed = check.cases.filter((c) => !c.passed).map((c) => `${c.name}: ${c.reason}`);
      throw new MillwrightError('CHECK_FAILED', `${group} version ${n} failed the functional check for ${to}: ${failed.join('; ')}`, { details: { check } });
    }
  }
  return withLock(join(root, LOCK_FILE), async () => {
    const stages = await readStagesFile(root, group);
    // Re-check under the lock: the version may have been rejected while the check ran.
    await assertEligible(root, group, n, to, stages);
    const previous = stages.stages[to].at(-1)?.version;
    const assignment: StageAssignment = { version: n, at: new Date().toISOString(), kind: 'promote', ...(opts.note ? { note: opts.note } : {}), ...(check ? { check } : {}) };
    stages.stages[to].push(assignment);
    await writeFileAtomic(join(root, group, STAGES_FILE), `${JSON.stringify(stages, null, 2)}\n`);
    return { assignment, ...(previous !== undefined ? { previous } : {}) };
  }, opts.lock);
}

/**
 * Returns a stage to its previous stable version: the last version it held before the current
 * one that has not been rejected since. A serving container that follows the stage swaps back
 * blue/green on its next poll.
 *
 * @example
 * import { rollbackStage } from 'millwright';
 * await rollbackStage('plant-a', 'PROD', { note: 'v5 over-predicts the night shift' }); // { from: 5, to: 4 }
 */
export async function rollbackStage(group: string, stage: Stage | string, opts: RegistryOptions & { note?: string } = {}): Promise<{ from: number; to: number }> {
  checkGroup(group);
  const s = checkStage(stage);
  const root = resolveRegistry(opts);
  return withLock(join(root, LOCK_FILE), async () => {
    const stages = await readStagesFile(root, group);
    const history = stages.stages[s];
    const current = history.at(-1)?.version;
    if (current === undefined) throw new MillwrightError('CONFLICT', `${group} has nothing in ${s} to roll back`);
    let target: number | undefined;
    for (let i = history.length - 2; i >= 0 && target === undefined; i--) {
      const v = history[i]!.version;
      if (v !== current && (await readRecord(root, group, v)).status !== 'Rejected') target = v;
    }
    if (target === undefined) throw new MillwrightError('CONFLICT', `${group} ${s} has no earlier stable version to roll back to (history: ${history.map((a) => a.version).join(' -> ')})`);
    await verifyRegistered(root, await readRecord(root, group, target));
    history.push({ version: target, at: new Date().toISOString(), kind: 'rollback', ...(opts.note ? { note: opts.note } : {}) });
    await writeFileAtomic(join(root, group, STAGES_FILE), `${JSON.stringify(stages, null, 2)}\n`);
    return { from: current, to: target };
  }, opts.lock);
}

/**
 * The version a stage holds, verified (every file's checksum and the manifest hash), ready to
 * load. NOT_FOUND when the stage is empty.
 *
 * @example
 * import { getStaged, loadModel } from 'millwright';
 * const model = await loadModel((await getStaged('plant-a', 'PROD')).dir);
 */
export async function getStaged(group: string, stage: Stage | string, opts: RegistryOptions = {}): Promise<RegisteredModel> {
  const s = checkStage(stage);
  const root = resolveRegistry(opts);
  const version = await stageVersion(group, s, opts);
  if (version === undefined) throw new MillwrightError('NOT_FOUND', `model group "${group}" has nothing in ${s} (promote a version: millwright registry promote ${group} <version> --to ${s})`);
  const record = await readRecord(root, group, version);
  const { dir, manifest } = await verifyRegistered(root, record);
  return { record, dir, manifest };
}
