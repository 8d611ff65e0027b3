export { nexmark, type NexmarkSourceOptions } from './source.ts'
export { NexmarkGenerator } from './generator.ts'
export { nexmarkDefaults, resolveNexmarkConfig, NEXMARK_BASE_TIME, type NexmarkConfig } from './config.ts'
export { isAuction, isBid, isPerson, type Auction, type Bid, type NexmarkEvent, type Person } from './model.ts'
