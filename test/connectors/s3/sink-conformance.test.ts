// The sink conformance suite (test/sinks/) against an S3-compatible server: sink.s3 killed at every failpoint of
// the two-phase commit and at other parallelisms, in both formats; the completed objects hold every record once
// and no upload is left noted.
import { sinkConformance } from '../../sinks/conformance.ts'

sinkConformance('s3')
sinkConformance('s3Parquet')
