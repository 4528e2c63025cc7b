import type { ReportsPageData } from '../reports/report-rows';

/**
 * Where the reports page gets its figures, gathered once per page load. The page does not compute
 * them: the app binds this to the reports service (ReportsPageModule.forSource).
 */
export abstract class ReportsPageSource {
  abstract pageData(): Promise<ReportsPageData>;
}
