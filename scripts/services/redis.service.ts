// Redis for the connector tests: redis-server on 127.0.0.1:56379, in memory only (no persistence).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { aptInstall, portAnswers, startDetached, stopRecorded, waitForPort } from './process.ts';
import type { ServiceModule } from './types.ts';

const PORT = 56379;

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

const redis: ServiceModule = {
  name: 'redis',
  description: `Redis on 127.0.0.1:${PORT}, in memory; Debian package redis-server`,
  async ensure(ctx) {
    const info = { url: `redis://127.0.0.1:${PORT}`, port: PORT };
    if (await portAnswers(PORT)) return info;
    if (!has('redis-server')) {
      aptInstall(ctx, ['redis-server']);
    }
    startDetached(ctx.dir, 'redis', 'redis-server', ['--port', String(PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', ctx.dir, '--protected-mode', 'yes']);
    await waitForPort(PORT, 20_000, join(ctx.dir, 'redis.log'));
    return info;
  },
  async stop(ctx) {
    stopRecorded(ctx.dir, 'redis');
  },
};

export default redis;
