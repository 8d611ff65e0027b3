// `npm run services [-- name...]`: starts the services the integration tests use, on loopback, idempotently.
// Every `<name>.service.ts` beside this file is one service; with no names, all of them are ensured.
import { mkdirSync, readdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ServiceInfo, ServiceModule } from './types.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const servicesRoot = join(here, '..', '..', '.services');
export const stateFile = join(servicesRoot, 'state.json');

async function loadModules(): Promise<ServiceModule[]> {
  const files = readdirSync(here).filter((f) => f.endsWith('.service.ts')).sort();
  const modules: ServiceModule[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: ServiceModule };
    modules.push(mod.default);
  }
  return modules;
}

function readState(): Record<string, ServiceInfo> {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, ServiceInfo>;
  } catch {
    return {};
  }
}

function writeState(state: Record<string, ServiceInfo>): void {
  mkdirSync(servicesRoot, { recursive: true });
  const tmp = `${stateFile}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, stateFile);
}

async function main(argv: string[]): Promise<number> {
  const modules = await loadModules();
  if (argv.includes('--list')) {
    for (const m of modules) process.stdout.write(`${m.name.padEnd(12)} ${m.description}\n`);
    return 0;
  }
  const stopping = argv.includes('--stop');
  const names = argv.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !modules.some((m) => m.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown service: ${unknown.join(', ')} (known: ${modules.map((m) => m.name).join(', ')})\n`);
    return 2;
  }
  const chosen = names.length === 0 ? modules : modules.filter((m) => names.includes(m.name));
  let failed = 0;
  for (const m of chosen) {
    const dir = join(servicesRoot, m.name);
    mkdirSync(dir, { recursive: true });
    const ctx = { dir, log: (msg: string) => process.stdout.write(`[${m.name}] ${msg}\n`) };
    const started = Date.now();
    try {
      if (stopping) {
        await m.stop?.(ctx);
        const state = readState();
        delete state[m.name];
        writeState(state);
        ctx.log('stopped');
        continue;
      }
      const info = await m.ensure(ctx);
      writeState({ ...readState(), [m.name]: info });
      ctx.log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (err) {
      failed++;
      process.stderr.write(`[${m.name}] failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
