// Postgres for the connector tests: a private cluster in `.services/postgres/`, on 127.0.0.1:55432, with
// logical replication on (for CDC), prepared transactions allowed (sink.postgres writes append-only rows
// once in them) and trust authentication for the `sluice` superuser.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall, portAnswers, waitForPort } from './process.ts';
import type { ServiceContext, ServiceInfo, ServiceModule } from './types.ts';

const PORT = 55432;
const USER = 'sluice';
const info: ServiceInfo = { url: `postgres://${USER}@127.0.0.1:${PORT}/${USER}`, port: PORT };

/** The folder of the Postgres server binaries, installing the Debian package when there is none. */
function binDir(ctx: ServiceContext): string {
  const find = () => {
    const root = '/usr/lib/postgresql';
    if (!existsSync(root)) return undefined;
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
    return versions.length === 0 ? undefined : join(root, versions[0], 'bin');
  };
  let dir = find();
  if (dir === undefined) {
    aptInstall(ctx, ['postgresql']);
    dir = find();
  }
  if (dir === undefined) throw new Error('no Postgres server binaries after installing postgresql');
  return dir;
}

/** Postgres refuses to run as root: as root, its commands run as the Debian package's `postgres` user. Returns stdout. */
function run(bin: string, args: string[], ok: (stderr: string) => boolean = () => false): string {
  const asRoot = process.getuid?.() === 0;
  const r = asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', bin, ...args], { encoding: 'utf8' }) : spawnSync(bin, args, { encoding: 'utf8' });
  if (r.status !== 0 && !ok(r.stderr)) throw new Error(`${bin} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/**
 * Rolls back the sinks' prepared transactions (`sluice_…`) left for over an hour by test runs that were killed:
 * one holds back every logical replication slot created after it, so the CDC tests would wait for it.
 */
function tidy(bin: string, ctx: ServiceContext): void {
  try {
    rollBackStale(bin, ctx);
  } catch (e) {
    ctx.log(`could not look for stale prepared transactions: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function rollBackStale(bin: string, ctx: ServiceContext): void {
  const psql = (db: string, sql: string) => run(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(PORT), '-U', USER, '-d', db, '-Atc', sql]);
  const stale = psql(USER, "SELECT database || ' ' || gid FROM pg_prepared_xacts WHERE gid LIKE 'sluice\\_%' AND prepared < now() - interval '1 hour'");
  for (const line of stale.split('\n').filter((l) => l !== '')) {
    const [db, gid] = line.split(' ');
    ctx.log(`rolling back prepared transaction ${gid}, left for over an hour`);
    psql(db, `ROLLBACK PREPARED '${gid.replace(/'/g, "''")}'`);
  }
}

function dataDir(ctx: ServiceContext): string {
  return join(ctx.dir, 'data');
}

const postgres: ServiceModule = {
  name: 'postgres',
  description: `PostgreSQL on 127.0.0.1:${PORT} (wal_level=logical, max_prepared_transactions=64, user ${USER}, trust auth); Debian package postgresql`,
  async ensure(ctx) {
    const bin = binDir(ctx);
    if (await portAnswers(PORT)) {
      tidy(bin, ctx);
      return info;
    }
    const data = dataDir(ctx);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      const pg = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
      const uid = Number(pg.stdout.trim());
      const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      mkdirSync(data, { recursive: true });
      chownSync(ctx.dir, uid, gid);
      chownSync(data, uid, gid);
    }
    if (!existsSync(join(data, 'PG_VERSION'))) {
      ctx.log(`creating a cluster in ${data}`);
      run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', USER, '-E', 'UTF8', '--no-locale']);
    }
    const log = join(ctx.dir, 'postgres.log');
    const options = [`-p ${PORT}`, '-c listen_addresses=127.0.0.1', `-k ${ctx.dir}`, '-c wal_level=logical', '-c max_replication_slots=20', '-c max_wal_senders=20', '-c fsync=off', '-c max_connections=200', '-c max_prepared_transactions=64'];
    ctx.log('starting');
    run(join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-o', options.join(' '), '-w', 'start']);
    await waitForPort(PORT, 30_000, log);
    // The database the url names; an error saying it exists already is fine.
    run(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(PORT), '-U', USER, USER], (stderr) => /already exists/.test(stderr));
    tidy(bin, ctx);
    return info;
  },
  async stop(ctx) {
    const data = dataDir(ctx);
    if (!existsSync(join(data, 'postmaster.pid'))) return;
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGINT'); // Postgres's fast shutdown
      } catch {
        // already gone
      }
    }
  },
};

export default postgres;
