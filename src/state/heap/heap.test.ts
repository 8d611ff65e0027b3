import { stateBackendConformance } from '../conformance.ts'
import { HeapStateBackend } from './heap-backend.ts'

stateBackendConformance('heap', (opts) => new HeapStateBackend(opts))
