// Helpers for the package tests: pack the repository as `npm pack` would publish it, install the tarball
// into a fresh project outside the repository, and run commands there under a given Node.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** The Node 22 release the tests run the package under (type stripping is on by default from 22.18). */
export const node22Version = '22.23.3'

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a command with `nodeBin` first on the PATH (so `npm`, `npx` and the `sluice` bin run on that Node). */
export function exec(cmd: string, args: string[], cwd: string, nodeBin: string, timeoutMs = 240_000): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(nodeBin)}:${process.env.PATH ?? ''}`, SLUICE_DEBUG: '', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' }
  for (const k of Object.keys(env)) if (k.startsWith('npm_package_') || k === 'npm_lifecycle_event' || k === 'INIT_CWD' || k === 'NODE_TEST_CONTEXT') delete env[k]
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs })
  return { code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error !== undefined ? String(r.error) : '') }
}

/** Like exec, but throws with the output when the command fails. */
export function must(cmd: string, args: string[], cwd: string, nodeBin: string): Run {
  const r = exec(cmd, args, cwd, nodeBin)
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`)
  return r
}

/**
 * Packs the package with `npm pack` (its prepack builds dist/) from a copy of the repository, so that
 * tests running meanwhile never see the packed manifest. Returns the tarball's path.
 */
export function packTarball(into: string): string {
  const stage = join(into, 'stage')
  mkdirSync(stage)
  for (const f of ['package.json', 'package-lock.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', 'src', 'bin', 'docs', 'scripts']) {
    if (existsSync(join(root, f))) cpSync(join(root, f), join(stage, f), { recursive: true })
  }
  symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'))
  must('npm', ['pack', '--pack-destination', into, '--silent'], stage, process.execPath)
  const tgz = readdirSync(into).find((f) => f.endsWith('.tgz'))
  if (tgz === undefined) throw new Error('npm pack wrote no tarball')
  return join(into, tgz)
}

/** A fresh project with the tarball installed as its dependency `sluice`. */
export function userProject(into: string, tarball: string, files: Record<string, string> = {}): string {
  const dir = join(into, 'project')
  mkdirSync(dir)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'my-pipelines', private: true, type: 'module' }, null, 2))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  must('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], dir, process.execPath)
  return dir
}

/**
 * The `node` binary of the Node 22 release, installed once from the npm package `node` into a folder of
 * the temporary directory that later runs reuse.
 */
export function node22(): string {
  const dir = join(tmpdir(), `sluice-test-node-${node22Version}`)
  const bin = join(dir, 'node_modules', 'node', 'bin', 'node')
  if (existsSync(bin)) return bin
  const tmp = mkdtempSync(join(tmpdir(), 'sluice-test-node-install-'))
  try {
    must('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', tmp, `node@${node22Version}`], tmp, process.execPath)
    rmSync(dir, { recursive: true, force: true })
    renameSync(tmp, dir)
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  return bin
}
