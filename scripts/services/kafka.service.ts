// A single-node Apache Kafka broker (KRaft: broker and controller in one JVM) on loopback, from the Apache
// Kafka jars on Maven Central. Needs Java 17+ and Maven. The jars are fetched once into `.services/kafka/jars`;
// the data folder is formatted once; the broker runs detached until `npm run services -- --stop kafka`.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { portAnswers, startDetached, stopRecorded } from './process.ts'
import type { ServiceContext, ServiceInfo, ServiceModule } from './types.ts'

const PORT = 59092
const CONTROLLER_PORT = 59093
const KAFKA_VERSION = '4.4.0'
const LOG4J_SLF4J = '2.25.5'
const READY_MS = 90_000

/** The Maven project whose runtime dependencies are the broker's classpath. */
const POM = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>sluice.services</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>${KAFKA_VERSION}</version>
      <exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions>
    </dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${LOG4J_SLF4J}</version></dependency>
  </dependencies>
</project>
`

const LOG4J = `status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = info
`

function serverProperties(dataDir: string): string {
  return `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${CONTROLLER_PORT}
listeners=PLAINTEXT://127.0.0.1:${PORT},CONTROLLER://127.0.0.1:${CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${dataDir}
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
log.segment.bytes=67108864
log.retention.hours=24
`
}

/** Java and Maven from Debian's packages when they are missing and this is a Debian machine we administer. */
function ensureTools(ctx: ServiceContext): void {
  const missing = ['java', 'mvn'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
  if (missing.length === 0 || process.env.JAVA_HOME !== undefined) return
  if (process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0) {
    throw new Error(`${missing.join(' and ')} not found: install Java 17+ and Maven, or point the tests at your own Kafka (see README)`)
  }
  ctx.log(`installing ${missing.join(' and ')} from Debian's packages`)
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' })
  execFileSync('apt-get', ['install', '-y', '-qq', 'openjdk-17-jre-headless', 'maven'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
}

/** The jars, fetched from Maven Central once. */
function fetchJars(ctx: ServiceContext): string {
  const jars = join(ctx.dir, 'jars')
  if (existsSync(jars) && readdirSync(jars).some((f) => f.startsWith(`kafka_2.13-${KAFKA_VERSION}`))) return jars
  ctx.log(`fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central (once)`)
  writeFileSync(join(ctx.dir, 'pom.xml'), POM)
  execFileSync(
    'mvn',
    ['-q', '-B', '-f', join(ctx.dir, 'pom.xml'), `-Dmaven.repo.local=${join(ctx.dir, 'm2')}`, 'dependency:copy-dependencies', `-DoutputDirectory=${jars}`, '-DincludeScope=runtime'],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  )
  return jars
}

function java(): string {
  const home = process.env.JAVA_HOME
  return home !== undefined && existsSync(join(home, 'bin', 'java')) ? join(home, 'bin', 'java') : 'java'
}

const JVM = ['-Xms128m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xshare:auto']

/** Formats the data folder once (KRaft needs a cluster id and a formatted metadata log). */
function format(ctx: ServiceContext, jars: string, props: string, dataDir: string): void {
  if (existsSync(join(dataDir, 'meta.properties'))) return
  const clusterId = randomBytes(16).toString('base64url').slice(0, 22)
  ctx.log('formatting the data folder')
  execFileSync(java(), [...JVM, `-Dlog4j2.configurationFile=${join(ctx.dir, 'log4j2.properties')}`, '-cp', `${jars}/*`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props, '--ignore-formatted'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
}

/** Waits for the broker's "started" line in its log (a port that answers may still refuse requests). */
async function waitReady(logFile: string, from: number, pid: number): Promise<void> {
  const deadline = Date.now() + READY_MS
  while (Date.now() < deadline) {
    const text = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(from) : ''
    if (/Kafka Server started|\[BrokerServer id=\d+\] Transition from STARTING to STARTED/.test(text) && (await portAnswers(PORT))) return
    try {
      process.kill(pid, 0)
    } catch {
      throw new Error(`the broker exited while starting; see ${logFile}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`the broker was not ready after ${READY_MS} ms; see ${logFile}`)
}

const info: ServiceInfo = { bootstrap: `127.0.0.1:${PORT}` }

const kafka: ServiceModule = {
  name: 'kafka',
  description: `Apache Kafka ${KAFKA_VERSION}, one KRaft node on 127.0.0.1:${PORT} (Java 17+ and Maven; jars from Maven Central)`,
  async ensure(ctx) {
    if (await portAnswers(PORT)) return info
    ensureTools(ctx)
    const jars = fetchJars(ctx)
    const dataDir = join(ctx.dir, 'data')
    mkdirSync(dataDir, { recursive: true })
    const props = join(ctx.dir, 'server.properties')
    writeFileSync(props, serverProperties(dataDir))
    writeFileSync(join(ctx.dir, 'log4j2.properties'), LOG4J)
    format(ctx, jars, props, dataDir)
    const logFile = join(ctx.dir, 'kafka.log')
    const from = existsSync(logFile) ? readFileSync(logFile, 'utf8').length : 0
    const pid = startDetached(ctx.dir, 'kafka', java(), [...JVM, `-Dlog4j2.configurationFile=${join(ctx.dir, 'log4j2.properties')}`, '-cp', `${jars}/*`, 'kafka.Kafka', props])
    ctx.log(`broker starting (pid ${pid})`)
    await waitReady(logFile, from, pid)
    return info
  },
  async stop(ctx) {
    stopRecorded(ctx.dir, 'kafka')
  },
}

export default kafka
