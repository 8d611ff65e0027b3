// How integration tests find the services `npm run services` started (see scripts/services/README.md).
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const stateFile = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.services', 'state.json');

export interface ServiceHandle {
  /** Connection details written by the service's `ensure`, or undefined when it is not running. */
  readonly info: Readonly<Record<string, string | number | boolean>> | undefined;
  /** `false` when the service is there; otherwise the skip message for `test(name, { skip })`. */
  readonly skip: false | string;
}

/**
 * The running service `name`, or a skip message saying how to start it. In CI (`SLUICE_REQUIRE_SERVICES=1`)
 * a missing service throws, so its tests fail instead of skipping.
 */
export function serviceOrSkip(name: string): ServiceHandle {
  let state: Record<string, Record<string, string | number | boolean>> = {};
  try {
    state = JSON.parse(readFileSync(stateFile, 'utf8')) as typeof state;
  } catch {
    // no services started yet
  }
  const info = state[name];
  if (info !== undefined) return { info, skip: false };
  const how = `${name} is not running: start it with \`npm run services -- ${name}\``;
  if (process.env.SLUICE_REQUIRE_SERVICES === '1') throw new Error(how);
  return { info: undefined, skip: how };
}
