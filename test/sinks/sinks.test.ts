// The sink conformance suite (conformance.ts) against every transactional sink.
import { sinkConformance } from './conformance.ts'
import { CASES } from './cases.ts'

// Sinks that need a service run from that service's suite (test/kafka/ for sink.kafka).
for (const [name, c] of Object.entries(CASES)) if (c.service === undefined) sinkConformance(name)
