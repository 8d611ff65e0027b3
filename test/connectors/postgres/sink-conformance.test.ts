// The sink conformance suite against sink.postgres: rows written straight to the table in prepared
// transactions (where the server allows them), staged then moved, and (a server without prepared
// transactions) staged and copied into the table side by side.
import { sinkConformance } from '../../sinks/conformance.ts'

sinkConformance('postgres')
sinkConformance('postgresStaged')
sinkConformance('postgresMirrored')
