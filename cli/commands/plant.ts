import { readdir } from 'node:fs/promises';
import { parseCommandArgs, usageError, type Command } from '../command.ts';
import { plantsDir } from '../../lib/config/index.ts';
import { loadPlant, newPlant, plantRetrainConfig, PLANT_TEMPLATES } from '../../lib/plant/index.ts';
import { stringify as toYaml } from 'yaml';

function parseSets(sets: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of sets ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw usageError(`--set ${s}: expected KEY=VALUE, e.g. --set signals.energy=kwh_total`);
    out[s.slice(0, eq)] = s.slice(eq + 1);
  }
  return out;
}

const plantCommand: Command = {
  name: 'plant',
  summary: 'Onboard a plant from a template (energy, pdm); list and show plant configs',
  usage: `millwright plant new NAME --template ${PLANT_TEMPLATES.join('|')} [--site S] [--set KEY=VALUE]... [--plants DIR]
millwright plant list [--plants DIR]
millwright plant show NAME [--retrain] [--plants DIR]

Writes <plants>/<NAME>/plant.yaml from the template with the plant's own overrides (dotted keys:
timezone, asset, signals.<role>, model.window, model.schedule, model.hyperparameters.<hp>,
serve.stage, thresholds.cvRmsePct, notifications, ...), validated. The retrain, serve and
report energy-performance commands read it with --plant NAME.

  --template T     energy (energy-load-curve: signals energy, production, temperature) or pdm (threshold bands)
  --site S         store site of the plant (default: NAME)
  --set KEY=VALUE  override (repeatable); VALUE is YAML: --set 'notifications=[{type: email, to: ops@plant.example}]'
  --plants DIR     plant configs (default: env MILLWRIGHT_PLANTS or ./plants)
  --retrain        show: the retrain config the plant gives (store query, package, hyperparameters)

Example:
  millwright plant new plant-20 --template energy --set timezone=Europe/Lisbon --set signals.energy=kwh_total
  millwright retrain --plant plant-20 --once`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      allowPositionals: true,
      options: { template: { type: 'string' }, site: { type: 'string' }, set: { type: 'string', multiple: true }, plants: { type: 'string' }, retrain: { type: 'boolean' } },
    });
    const dir = plantsDir(values.plants, io.env, io.cwd);
    const [verb, name, ...extra] = positionals;
    if (extra.length) throw usageError(`unexpected argument "${extra[0]}"`);
    switch (verb) {
      case 'new': {
        if (!name) throw usageError('plant new expects a NAME');
        if (!values.template) throw usageError(`plant new needs --template ${PLANT_TEMPLATES.join('|')}`);
        const { path, config } = await newPlant(name, { template: values.template, dir, site: values.site, set: parseSets(values.set) });
        io.out(`onboarded ${config.name} (${config.template}, site ${config.site}, model group ${config.model.group})\n  ${path}\n`);
        return 0;
      }
      case 'list': {
        const names = (await readdir(dir).catch(() => [] as string[])).sort();
        let n = 0;
        for (const p of names) {
          const plant = await loadPlant(p, { dir }).catch(() => undefined);
          if (!plant) continue;
          n++;
          io.out(`${plant.name}: ${plant.template}, site ${plant.site}, ${plant.timezone}, group ${plant.model.group}, serves ${plant.serve.stage}\n`);
        }
        if (n === 0) io.out(`no plants in ${dir}\n`);
        return 0;
      }
      case 'show': {
        if (!name) throw usageError('plant show expects a NAME');
        const plant = await loadPlant(name, { dir });
        io.out(toYaml(values.retrain ? plantRetrainConfig(plant) : plant));
        return 0;
      }
      default:
        throw usageError(verb ? `unknown verb "${verb}": expected new, list or show` : 'missing verb: new, list or show');
    }
  },
};

export const plantCommands: Command[] = [plantCommand];
