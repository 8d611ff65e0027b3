export { resolvePolicy, type RetentionPolicy, type ResolvedPolicy } from './policy.ts'
export { planRetention, type RetentionAction } from './plan.ts'
export { applyRetention } from './apply.ts'
