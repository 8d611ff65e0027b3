// Chromium for the dashboard's browser tests. The "service" is the browser binary itself (Debian package
// `chromium`): tests start it headless through playwright-core, one browser per test file, so nothing runs here.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { aptInstall } from './process.ts';
import type { ServiceInfo, ServiceModule } from './types.ts';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

function found(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p) && spawnSync(p, ['--version'], { stdio: 'ignore', timeout: 30_000 }).status === 0);
}

const chromium: ServiceModule = {
  name: 'chromium',
  description: 'Chromium browser binary (Debian package chromium), started headless by the dashboard tests',
  async ensure(ctx) {
    let path = found();
    if (path === undefined) {
      aptInstall(ctx, ['chromium']);
      path = found();
    }
    if (path === undefined) throw new Error(`chromium was installed but none of ${CANDIDATES.join(', ')} starts`);
    const version = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 }).stdout.trim();
    const info: ServiceInfo = { path, version };
    return info;
  },
};

export default chromium;
