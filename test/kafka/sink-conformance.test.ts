// The sink conformance suite (test/sinks/) against the real broker: sink.kafka killed at every failpoint of the
// two-phase commit and at other parallelisms, its output read with read_committed holding every record once.
import { sinkConformance } from '../sinks/conformance.ts'

sinkConformance('kafka')
