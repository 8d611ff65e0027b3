// Two schedulers on one store, in two real processes: the second refuses, naming the first; a SIGKILLed
// holder's lock is taken over, and the shell command it left running is stopped before the task runs again.
// `sluice workflow cancel` from a third process stops a running shell task, and what its command started.
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createServer } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { WorkflowStore } from '../../src/workflow/store.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const FIXTURE = 'test/workflow/fixtures/long.ts'

function cli(dir: string, sub: string, ...args: string[]) {
  return spawnSync(process.execPath, ['bin/sluice.js', 'workflow', sub, FIXTURE, '--store', join(dir, 'runs.db'), ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, LONG_DIR: dir }, timeout: 120_000 })
}

function startScheduler(dir: string, ...flags: string[]): { child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null; stderr: string }> } {
  const child = spawn(process.execPath, ['bin/sluice.js', 'workflow', 'run', FIXTURE, '--store', join(dir, 'runs.db'), ...flags], { cwd: root, env: { ...process.env, LONG_DIR: dir }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  return { child, exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr }))) }
}

/** Waits until the task has started (its shell wrote its pid). */
async function taskPid(dir: string): Promise<number> {
  for (let i = 0; i < 1200; i++) {
    if (existsSync(join(dir, 'pid'))) {
      const pid = Number(readFileSync(join(dir, 'pid'), 'utf8').trim())
      if (pid > 0) return pid
    }
    await delay(50)
  }
  throw new Error('the task never started')
}

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address() as { port: number }
  await new Promise((r) => s.close(r))
  return port
}

/** Whether the process runs (a zombie left for its new parent to reap does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

/** The pid of the task's sleeping child. */
function childPid(dir: string): number {
  return Number(readFileSync(join(dir, 'child'), 'utf8').trim())
}

/** Waits until the scheduler has noted the task's process group in the store. */
async function recordedGroup(dir: string): Promise<number> {
  for (let i = 0; i < 1200; i++) {
    const store = new WorkflowStore(join(dir, 'runs.db'))
    const pid = store.run('long', 'sleep', 'default')?.pid ?? null
    store.close()
    if (pid !== null) return pid
    await delay(50)
  }
  throw new Error('the task process was never noted')
}

test('a second scheduler on the store refuses, naming the holder; cancel stops the running shell task, never retried', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-wf-lock-'))
  const port = await freePort()
  const first = startScheduler(dir, '--metrics-port', String(port))
  try {
    const pid = await taskPid(dir)
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    assert.match(metrics, /sluice_workflow_task_queue_seconds_count\{workflow="long",task="sleep"\} 1/)
    assert.match(metrics, /sluice_workflow_runs\{workflow="long",status="running"\} 1/)
    const second = cli(dir, 'run')
    assert.notEqual(second.status, 0)
    assert.match(second.stderr, /SLUICE_WORKFLOW_LOCKED/)
    assert.ok(second.stderr.includes(`process ${first.child.pid} on ${hostname()}`), second.stderr)

    const c = cli(dir, 'cancel')
    assert.equal(c.status, 0, c.stderr)
    assert.match(c.stdout, /asked the scheduler to stop 1 running/)
    const end = await first.exited
    assert.equal(end.code, 0, end.stderr)
    assert.equal(alive(pid), false, 'the shell command was stopped')
    assert.equal(alive(childPid(dir)), false, 'what the command started was stopped too')

    const store = new WorkflowStore(join(dir, 'runs.db'))
    assert.equal(store.run('long', 'sleep', 'default')?.status, 'cancelled')
    assert.deepEqual(store.history('long').map((h) => h.outcome), ['cancelled'], 'one attempt, not retried')
    store.close()
    assert.equal(existsSync(join(dir, 'runs.db.lock')), false, 'the lock is released at exit')
  } finally {
    first.child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the lock of a SIGKILLed scheduler is taken over; the command it left running is stopped, and the task run again', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-wf-lock-'))
  const first = startScheduler(dir)
  let pid = 0
  let child = 0
  try {
    pid = await taskPid(dir)
    child = childPid(dir)
    assert.equal(await recordedGroup(dir), pid, 'the shell leads its own process group')
    first.child.kill('SIGKILL')
    assert.equal((await first.exited).signal, 'SIGKILL')
    assert.ok(alive(pid) && alive(child), 'a SIGKILL of the scheduler does not reach the command')
    assert.match(readFileSync(join(dir, 'runs.db.lock'), 'utf8'), new RegExp(`^${first.child.pid}\\n`), 'the dead holder left its lock')
    writeFileSync(join(dir, 'fast'), '')
    const again = cli(dir, 'run')
    assert.equal(again.status, 0, again.stderr)
    assert.match(again.stdout, /1 succeeded/)
    assert.match(again.stderr, new RegExp(`sleep default: stopped the command \\(process group ${pid}\\)`))
    for (let i = 0; i < 100 && (alive(pid) || alive(child)); i++) await delay(50)
    assert.equal(alive(pid), false, 'the left-over command was stopped before the task ran again')
    assert.equal(alive(child), false, 'and what it started')
    const store = new WorkflowStore(join(dir, 'runs.db'))
    assert.deepEqual(store.history('long').map((h) => h.outcome).reverse(), ['interrupted', 'succeeded'])
    store.close()
  } finally {
    first.child.kill('SIGKILL')
    for (const p of [pid, child]) if (p > 0 && alive(p)) process.kill(p, 'SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a scheduler killed after starting a shell command but before noting its process group: the command never runs', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-wf-lock-'))
  const child = spawn(process.execPath, ['bin/sluice.js', 'workflow', 'run', FIXTURE, '--store', join(dir, 'runs.db')], {
    cwd: root,
    env: { ...process.env, LONG_DIR: dir, SLUICE_FAILPOINT: 'workflow-after-spawn' },
    stdio: 'ignore',
  })
  try {
    const signal = await new Promise((resolve) => child.on('exit', (_code, s) => resolve(s)))
    assert.equal(signal, 'SIGKILL', 'the scheduler died at the failpoint')
    // A command left running would note its pid at once; give it two seconds to show itself.
    for (let i = 0; i < 40 && !existsSync(join(dir, 'pid')); i++) await delay(50)
    assert.equal(existsSync(join(dir, 'pid')), false, 'the command did not start without its group noted')
    writeFileSync(join(dir, 'fast'), '')
    const again = cli(dir, 'run')
    assert.equal(again.status, 0, again.stderr)
    assert.match(again.stdout, /1 succeeded/)
    const store = new WorkflowStore(join(dir, 'runs.db'))
    assert.deepEqual(store.history('long').map((h) => h.outcome).reverse(), ['interrupted', 'succeeded'])
    store.close()
  } finally {
    child.kill('SIGKILL')
    if (existsSync(join(dir, 'pid'))) {
      for (const p of [Number(readFileSync(join(dir, 'pid'), 'utf8')), existsSync(join(dir, 'child')) ? childPid(dir) : 0]) if (p > 0 && alive(p)) process.kill(p, 'SIGKILL')
    }
    rmSync(dir, { recursive: true, force: true })
  }
})
