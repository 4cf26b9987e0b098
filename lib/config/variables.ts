/**
 * Every environment variable the toolkit reads, defined once: what it sets, its default and who
 * reads it. docs/configuration.md is generated from this table, and {@link readEnv} only accepts
 * these names, so a variable cannot be read without being documented here.
 *
 * @example
 * import { CONFIG_VARS } from 'millwright';
 * CONFIG_VARS.MILLWRIGHT_STORE.default; // './.millwright/store'
 */
export const CONFIG_VARS = {
  MILLWRIGHT_STORE: { sets: 'Store root (Hive-partitioned Parquet readings). A `--store` flag wins.', default: './.millwright/store', readBy: 'ingest, flush, gateway, sql, scan, resample, compact, datasets import, features, report (sql: sources), train (store: channels), retrain' },
  MILLWRIGHT_SPOOL: { sets: 'Spool directory: durable, acknowledged readings waiting to be flushed into the store. A `--spool` flag wins.', default: './.millwright/spool', readBy: 'spool, flush, gateway, `spoolDir`' },
  MILLWRIGHT_REGISTRY: { sets: 'Model registry folder. A `--registry` flag wins.', default: './.millwright/registry', readBy: 'model register/approve/list/deploy, retrain, serve --group, `resolveRegistry`' },
  MILLWRIGHT_PLANTS: { sets: 'Folder of plant configs (`<dir>/<name>/plant.yaml`). A `--plants` flag wins.', default: './plants', readBy: 'plant new/list/show, `--plant` of retrain, serve and report energy-performance, `plantsDir`' },
  MILLWRIGHT_DATA_DIR: { sets: 'Folder holding the real (downloaded) datasets. A relative value is resolved against the directory the process started in; a folder that does not exist is an error.', default: '(none: loaders need it or a data-dir argument)', readBy: 'datasets list/show/import, the dataset loaders, `resolveDataDir`' },
  MILLWRIGHT_MODEL_PACKAGES: { sets: 'User algorithm package folders a served model may run with, separated by `:` (`;` on Windows). Built-ins are always allowed.', default: '(none)', readBy: 'serve, `loadModel`' },
  MILLWRIGHT_PACKAGE: { sets: 'The package a bare `train` trains in the container (SageMaker runs `docker run IMAGE train` with no argument).', default: '(none)', readBy: 'the container entry (cli/container.ts)' },
  MILLWRIGHT_ML_BASE: { sets: 'SageMaker-style base folder (input/, model/, output/) for training, when `SM_BASE` is unset.', default: '/opt/ml', readBy: 'train, `mlBase`' },
  MILLWRIGHT_GIT_COMMIT: { sets: 'Commit recorded in model manifests\' code version, instead of asking git (images built without .git).', default: '(from git)', readBy: 'train, `codeVersion`' },
  MILLWRIGHT_ORT_THREADS: { sets: 'onnxruntime intra-op threads per ONNX session (0 = onnxruntime\'s default).', default: '1', readBy: 'onnx algorithm, `sessionOptions`' },
  MILLWRIGHT_PORT: { sets: 'Port the model server listens on, when `SAGEMAKER_BIND_TO_PORT` is unset. A `--port` flag wins.', default: '8080', readBy: 'serve, `resolveSettings`' },
  MILLWRIGHT_HOST: { sets: 'Address the model server binds. A `--host` flag wins.', default: '127.0.0.1', readBy: 'serve, `resolveSettings`' },
  MILLWRIGHT_TRUST_DIR: { sets: 'Trust store (folder of trusted Ed25519 `*.pub` keys and `revoked.txt`): models must be signed by one of its keys to load. A `--trust` flag wins.', default: '(none: checksums only)', readBy: 'serve, `loadModel`, verify, deploy, rollback' },
  MILLWRIGHT_ADMIN_TOKEN: { sets: 'Bearer token the admin routes (/admin/*, /reports/*) require; without it those routes are off (404).', default: '(none)', readBy: 'serve' },
  MILLWRIGHT_OBJECT_STORE_ENDPOINT: { sets: 'Endpoint URL of an S3-compatible server (`http://127.0.0.1:8080`) for `s3://` destinations and stores; unset means AWS S3 (or the SDK\'s own `AWS_ENDPOINT_URL_S3`). An `--endpoint` flag wins. Credentials never go here: they come from the AWS SDK\'s default chain (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE`, roles).', default: '(AWS S3)', readBy: 'flush --to, sync, sql/scan --store s3://' },
  MILLWRIGHT_OBJECT_CACHE: { sets: 'Cache folder of `sql`/`scan --store s3://…` (objects fetched for queries, hard-linked into per-query views). A `--cache-dir` flag wins.', default: './.millwright/cache/s3', readBy: 'sql, scan (s3 stores)' },
  MILLWRIGHT_OBJECT_CACHE_SIZE: { sets: 'Bound of that cache (`512mb`, `2gb`): least recently used objects are evicted past it, and a query needing more is refused. A `--cache-size` flag wins.', default: '1gb', readBy: 'sql, scan (s3 stores)' },
  MILLWRIGHT_DEBUG: { sets: 'Any value prints the stack trace of a failed CLI command.', default: '(off)', readBy: 'the CLI (cli/dispatch.ts)' },
  SM_BASE: { sets: 'SageMaker base folder for training; wins over `MILLWRIGHT_ML_BASE`. A `--base` flag wins.', default: '/opt/ml', readBy: 'train, `mlBase`' },
  SM_MODEL_DIR: { sets: 'Model folder served when neither `--model` nor `--group` is given.', default: '/opt/ml/model', readBy: 'serve' },
  SAGEMAKER_BIND_TO_PORT: { sets: 'Port the model server listens on (set by SageMaker); wins over `MILLWRIGHT_PORT`.', default: '8080', readBy: 'serve, `resolveSettings`' },
  SAGEMAKER_MODEL_SERVER_WORKERS: { sets: 'Model worker threads; wins over `MODEL_SERVER_WORKERS`. A `--workers` flag wins.', default: '(all cores)', readBy: 'serve, `resolveSettings`' },
  MODEL_SERVER_WORKERS: { sets: 'Model worker threads, when `SAGEMAKER_MODEL_SERVER_WORKERS` is unset.', default: '(all cores)', readBy: 'serve, `resolveSettings`' },
  SAGEMAKER_MODEL_SERVER_TIMEOUT: { sets: 'Prediction deadline (seconds, or a duration such as 2s); wins over `MODEL_SERVER_TIMEOUT`. A `--timeout` flag wins.', default: '5s', readBy: 'serve, `resolveSettings`' },
  MODEL_SERVER_TIMEOUT: { sets: 'Prediction deadline, when `SAGEMAKER_MODEL_SERVER_TIMEOUT` is unset.', default: '5s', readBy: 'serve, `resolveSettings`' },
  SAGEMAKER_MAX_PAYLOAD_IN_MB: { sets: 'Largest request body in MB; wins over `MODEL_SERVER_MAX_PAYLOAD_IN_MB`. A `--max-body` flag wins.', default: '6', readBy: 'serve, `resolveSettings`' },
  MODEL_SERVER_MAX_PAYLOAD_IN_MB: { sets: 'Largest request body in MB, when `SAGEMAKER_MAX_PAYLOAD_IN_MB` is unset.', default: '6', readBy: 'serve, `resolveSettings`' },
} as const satisfies Record<string, { sets: string; default: string; readBy: string }>;

/** The name of an environment variable the toolkit reads: one key of {@link CONFIG_VARS}. */
export type ConfigVar = keyof typeof CONFIG_VARS;

/** An environment to read from (`process.env`, or a plain object in tests). */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The value of one variable, with the toolkit's one rule: **an empty value is unset**
 * (`MILLWRIGHT_STORE=` means the default, never "the current directory").
 *
 * @example
 * import { readEnv } from 'millwright';
 * readEnv('MILLWRIGHT_STORE', { MILLWRIGHT_STORE: '' }); // undefined
 */
export function readEnv(name: ConfigVar, env: Env = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The first of `names` that is set (by {@link readEnv}'s rule), with its name for messages.
 *
 * @example
 * import { firstEnv } from 'millwright';
 * firstEnv(['SAGEMAKER_BIND_TO_PORT', 'MILLWRIGHT_PORT'], { MILLWRIGHT_PORT: '9000' }); // { name: 'MILLWRIGHT_PORT', value: '9000' }
 */
export function firstEnv(names: readonly ConfigVar[], env: Env = process.env): { name: ConfigVar; value: string } | undefined {
  for (const name of names) {
    const value = readEnv(name, env);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

/** The text of docs/configuration.md, generated from {@link CONFIG_VARS} (`npm run docs:tables` writes it). */
export function configurationMarkdown(): string {
  const cell = (s: string) => s.replaceAll('|', '\\|');
  const rows = (Object.keys(CONFIG_VARS) as ConfigVar[]).map((name) => {
    const v = CONFIG_VARS[name];
    return `| \`${name}\` | ${cell(v.sets)} | ${cell(v.default)} | ${cell(v.readBy)} |`;
  });
  return `<!-- Generated from lib/config/variables.ts by \`npm run docs:tables\`; do not edit by hand. -->
# Configuration

Every environment variable millwright reads. One rule for all of them: **an empty value is
unset**, so \`MILLWRIGHT_STORE=\` means the default, exactly as if the variable were absent.
Command-line flags always win over the environment; where two variables set the same thing, the
first one named wins (SageMaker's own variables win over the generic ones). Relative paths are
resolved against the current directory, except \`MILLWRIGHT_DATA_DIR\`, which is resolved once
against the directory the process started in; a notebook kernel starts in \`notebooks/\`, so give
it an absolute path there.

| Variable | Sets | Default | Read by |
| --- | --- | --- | --- |
${rows.join('\n')}
`;
}
