import { resolve } from 'node:path'
import type { Command } from '../command.ts'
import { UsageError } from '../command.ts'
import { exitCode } from '../exit-codes.ts'
import { startRegistry } from '../../contracts/registry/server.ts'

export const registryCommand: Command = {
  name: 'registry',
  summary: 'serve a schema registry that speaks the Confluent Schema Registry API',
  usage: 'sluice registry --dir <folder> [--port 8081] [--host 127.0.0.1]',
  description: [
    'Serves the schema registry kept in a folder (created if missing) until Ctrl-C. Clients of the',
    'Confluent Schema Registry (Kafka serializers, @kafkajs/confluent-schema-registry, curl) work with it:',
    'subjects and versions, schemas by id, compatibility levels and checks, soft and hard deletes.',
    'Schema types AVRO and JSON. Ids and versions are kept in <folder>/registry.json, replaced atomically',
    'on every change, so they stay the same across restarts.',
  ].join('\n'),
  positionals: { min: 0, max: 0, names: '' },
  flags: [
    { name: 'dir', short: 'd', type: 'string', placeholder: 'DIR', description: 'the folder that keeps the schemas (required)' },
    { name: 'port', short: 'p', type: 'string', placeholder: 'PORT', description: 'TCP port (default 8081; 0 picks a free one)' },
    { name: 'host', type: 'string', placeholder: 'HOST', description: 'address to listen on (default 127.0.0.1)' },
  ],
  examples: ['sluice registry --dir data/registry --port 8081', "curl -s localhost:8081/subjects/bids-value/versions/latest"],

  async run(args, ctx) {
    if (typeof args.values.dir !== 'string') throw new UsageError('--dir is required', 'registry')
    const rawPort = args.values.port === undefined ? '8081' : String(args.values.port)
    const port = Number(rawPort)
    if (!/^\d+$/.test(rawPort) || port > 65535) throw new UsageError(`--port must be a port number, got '${rawPort}'`, 'registry')
    const host = typeof args.values.host === 'string' ? args.values.host : '127.0.0.1'
    const srv = await startRegistry({ dir: resolve(ctx.cwd, args.values.dir), port, host })
    ctx.stdout.write(`schema registry listening on ${srv.url} (schemas in ${args.values.dir})\n`)
    const signal = await new Promise<NodeJS.Signals>((done) => {
      process.once('SIGINT', () => done('SIGINT'))
      process.once('SIGTERM', () => done('SIGTERM'))
    })
    await srv.close()
    void signal
    return exitCode.ok
  },
}
