export { Catalog, type CatalogContract } from './catalog.ts'
export { catalogApi, type CatalogAnswer } from './api.ts'
export type { CatalogDataset, CatalogJob, CatalogField, CatalogQuery } from './model.ts'
