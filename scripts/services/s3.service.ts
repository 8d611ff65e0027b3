// An S3-compatible server for the object storage tests: s3rver (a devDependency) on 127.0.0.1:59000, its
// objects in a folder under .services/s3/, and the bucket `sluice` made at start.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { portAnswers, startDetached, stopRecorded, waitForPort } from './process.ts';
import type { ServiceModule } from './types.ts';

const PORT = 59000;
const BUCKET = 'sluice';

const s3: ServiceModule = {
  name: 's3',
  description: `S3-compatible server (s3rver) on 127.0.0.1:${PORT} with the bucket '${BUCKET}'; npm devDependency s3rver`,
  async ensure(ctx) {
    // s3rver accepts any key pair that signs well; these are its documented defaults.
    const info = { endpoint: `http://127.0.0.1:${PORT}`, port: PORT, bucket: BUCKET, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', region: 'us-east-1' };
    if (await portAnswers(PORT)) return info;
    const bin = createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');
    const data = join(ctx.dir, 'data');
    mkdirSync(data, { recursive: true });
    startDetached(ctx.dir, 's3', process.execPath, [bin, '-d', data, '-a', '127.0.0.1', '-p', String(PORT), '--silent', '--no-vhost-buckets', '--configure-bucket', BUCKET]);
    await waitForPort(PORT, 20_000, join(ctx.dir, 's3.log'));
    return info;
  },
  async stop(ctx) {
    stopRecorded(ctx.dir, 's3');
  },
};

export default s3;
