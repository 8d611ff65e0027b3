// Helpers shared by the service modules: start a detached server, wait for its port, find a PID again.
import { execFileSync, spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portAnswers(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Waits until `port` answers, or throws naming the log file to read. */
export async function waitForPort(port: number, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portAnswers(port)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`nothing answered on 127.0.0.1:${port} after ${timeoutMs} ms; see ${logFile}`);
}

/**
 * Starts `command` detached from this script (it keeps running after `npm run services` exits), with its
 * output in `<dir>/<name>.log` and its PID in `<dir>/<name>.pid`.
 */
export function startDetached(dir: string, name: string, command: string, args: string[], env?: NodeJS.ProcessEnv): number {
  const logFile = join(dir, `${name}.log`);
  const out = openSync(logFile, 'a');
  const child = spawn(command, args, { cwd: dir, detached: true, stdio: ['ignore', out, out], env: { ...process.env, ...env } });
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  writeFileSync(join(dir, `${name}.pid`), `${child.pid}\n`);
  return child.pid;
}

/** Stops the process recorded by `startDetached` (by its PID only), if it still runs. */
export function stopRecorded(dir: string, name: string): void {
  const pidFile = join(dir, `${name}.pid`);
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

/**
 * Installs Debian packages with apt-get; on a fresh machine without package lists the first try fails, so the
 * lists are fetched once and the install is tried again.
 */
export function aptInstall(ctx: { log(message: string): void }, packages: string[]): void {
  ctx.log(`installing the Debian package${packages.length > 1 ? 's' : ''} ${packages.join(', ')}`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const install = () => execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: ['ignore', 'ignore', 'inherit'], env })
  try {
    install()
  } catch {
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env })
    install()
  }
}
