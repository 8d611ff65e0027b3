// The sink conformance suite (conformance.ts) against every transactional sink.
import { sinkConformance } from './conformance.ts'
import { CASES } from './cases.ts'

for (const name of Object.keys(CASES)) sinkConformance(name)
