// Mosquitto for the MQTT connector tests: an MQTT broker on 127.0.0.1:51883 that keeps persistent sessions on disk.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall, portAnswers, startDetached, stopRecorded, waitForPort } from './process.ts';
import type { ServiceModule } from './types.ts';

const PORT = 51883;

function mosquittoBinary(): string | undefined {
  for (const candidate of ['mosquitto', '/usr/sbin/mosquitto']) {
    if (spawnSync('sh', ['-c', `command -v ${candidate}`]).status === 0) return candidate;
  }
  return undefined;
}

const mosquitto: ServiceModule = {
  name: 'mosquitto',
  description: `Mosquitto (MQTT) on 127.0.0.1:${PORT}, persistent sessions on disk; Debian package mosquitto`,
  async ensure(ctx) {
    const info = { url: `mqtt://127.0.0.1:${PORT}`, port: PORT };
    if (await portAnswers(PORT)) return info;
    if (mosquittoBinary() === undefined) aptInstall(ctx, ['mosquitto']);
    const binary = mosquittoBinary();
    if (binary === undefined) throw new Error('mosquitto is not on the PATH after installing the Debian package mosquitto');
    // Sessions and their queued QoS 1 messages are saved so a test can restart the broker too; no limit on
    // queued messages, so a stopped pipeline finds everything published meanwhile.
    const config = [
      `listener ${PORT} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${ctx.dir}/`,
      'autosave_interval 1',
      'max_queued_messages 0',
      'log_dest stdout',
      // Started as root (a container), mosquitto would switch to a user that cannot write the data folder.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      '',
    ].join('\n');
    const configFile = join(ctx.dir, 'mosquitto.conf');
    writeFileSync(configFile, config);
    startDetached(ctx.dir, 'mosquitto', binary, ['-c', configFile]);
    await waitForPort(PORT, 20_000, join(ctx.dir, 'mosquitto.log'));
    return info;
  },
  async stop(ctx) {
    stopRecorded(ctx.dir, 'mosquitto');
  },
};

export default mosquitto;
