// The sink conformance suite against sink.redis: idempotent writes by key, killed at every failpoint that
// applies to a sink without a two-phase commit, and restarted at other parallelisms.
import { sinkConformance } from '../../sinks/conformance.ts'

sinkConformance('redis')
