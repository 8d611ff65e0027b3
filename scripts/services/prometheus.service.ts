// Prometheus (Debian package `prometheus`, which also gives `promtool`) on 127.0.0.1:59090. It scrapes every
// target listed in `targets/*.json` (file_sd: tests write a file there naming their /metrics port) each second.
// The targets folder belongs to the machine, not to a checkout: one server answers on the port for every
// checkout of the project, so each must write its targets where that server looks.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceContext, ServiceInfo, ServiceModule } from './types.ts';
import { aptInstall, portAnswers, startDetached, stopRecorded, waitForPort } from './process.ts';

const PORT = 59090;
const BIN = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';

function config(targetsDir: string): string {
  return [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: sluice',
    '    file_sd_configs:',
    `      - files: ['${targetsDir}/*.json']`,
    '        refresh_interval: 1s',
    '',
  ].join('\n');
}

function install(ctx: ServiceContext): void {
  if (existsSync(BIN) && existsSync(PROMTOOL)) return;
  aptInstall(ctx, ['prometheus']);
}

const prometheus: ServiceModule = {
  name: 'prometheus',
  description: `Prometheus server and promtool (Debian), scraping targets/*.json every second, on 127.0.0.1:${PORT}`,
  async ensure(ctx) {
    const targetsDir = join(tmpdir(), `sluice-prometheus-${PORT}-targets`);
    mkdirSync(targetsDir, { recursive: true });
    const info: ServiceInfo = { url: `http://127.0.0.1:${PORT}`, promtool: PROMTOOL, targetsDir };
    install(ctx);
    if (await portAnswers(PORT)) return info;
    const configFile = join(ctx.dir, 'prometheus.yml');
    writeFileSync(configFile, config(targetsDir));
    startDetached(ctx.dir, 'prometheus', BIN, [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(ctx.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${PORT}`,
      '--storage.tsdb.retention.time=1d',
    ]);
    await waitForPort(PORT, 30_000, join(ctx.dir, 'prometheus.log'));
    return info;
  },
  async stop(ctx) {
    stopRecorded(ctx.dir, 'prometheus');
  },
};

export default prometheus;
