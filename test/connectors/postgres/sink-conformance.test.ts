// The sink conformance suite against sink.postgres: rows written straight to the table in prepared
// transactions (where the server allows them), and staged then moved.
import { sinkConformance } from '../../sinks/conformance.ts'

sinkConformance('postgres')
sinkConformance('postgresStaged')
