import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { stringify } from 'csv-stringify/sync';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { Roles } from '../common/auth/roles.decorator';
import { spreadsheetSafe, streamDownload } from '../common/download';
import { parseOrThrow } from '../common/zod-validation';
import { ApiErrors, ApiZodQuery } from '../docs/decorators';
import type { Amount } from './report-rows';
import { KPI_DIMENSIONS, QA_DIMENSIONS } from './report.rules';
import { CURE_CURVE_DAYS, MAX_CURE_CURVE_DAYS, type Report, Reports } from './reports.service';

const date = z.iso.date('must be a date (YYYY-MM-DD)').refine((value) => value >= '1970-01-01', 'must be on or after 1970-01-01');
const periodFields = {
  from: date.optional(),
  to: date.optional(),
  format: z.enum(['json', 'csv'], { error: 'must be json or csv' }).optional(),
};
// The order and the length of the period are checked once it is filled in (Reports.period).
const withPeriod = <T extends z.core.$ZodLooseShape>(shape: T) => z.strictObject({ ...periodFields, ...shape });

export const periodQuery = withPeriod({});
export const kpiQuery = withPeriod({ by: z.enum(KPI_DIMENSIONS, { error: `must be one of ${KPI_DIMENSIONS.join(', ')}` }).default('policy') });
export const cureCurveQuery = withPeriod({ days: z.coerce.number().int().min(0).max(MAX_CURE_CURVE_DAYS).default(CURE_CURVE_DAYS) });
export const qaScoreQuery = withPeriod({ by: z.enum(QA_DIMENSIONS, { error: `must be one of ${QA_DIMENSIONS.join(', ')}` }).default('collector') });

const isAmounts = (value: unknown): value is Amount[] =>
  Array.isArray(value) && value.every((entry) => typeof entry === 'object' && entry !== null && 'currency' in entry);

/** A row as CSV cells: amounts become a column per currency (`recovered_EUR`), text is made spreadsheet-safe. */
function csvCells(row: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).flatMap(([name, value]: [string, unknown]) =>
      isAmounts(value) ? value.map((amount) => [`${name}_${amount.currency}`, amount.amount]) : [[name, value === null ? '' : spreadsheetSafe(value)]],
    ),
  );
}

/**
 * Answers with the report as JSON, or its rows as a CSV download when `format=csv` or the client
 * accepts text/csv before JSON. `columns` head an empty file.
 */
async function answer(req: Request, res: Response, format: 'json' | 'csv' | undefined, name: string, report: Report<object>, columns: string[]) {
  if ((format ?? (req.accepts(['application/json', 'text/csv']) === 'text/csv' ? 'csv' : 'json')) === 'json') {
    res.status(200).json(report);
    return;
  }
  const cells = report.rows.map(csvCells);
  const header = cells.length > 0 ? [...new Set(cells.flatMap((cell) => Object.keys(cell)))] : columns;
  await streamDownload(res, [cells].values(), {
    type: 'text/csv; charset=utf-8',
    filename: `${name}-${report.from}-${report.to}.csv`,
    head: stringify([], { header: true, columns: header }),
    render: (page) => stringify(page, { columns: header }),
  });
}

const CSV_OR_JSON = { 'application/json': {}, 'text/csv': { schema: { type: 'string' } } };
const FORMAT_NOTE = 'JSON `{from, to, rows, definitions}`; `format=csv` (or `Accept: text/csv`) gives the rows as a CSV download.';

/** Collection KPIs and QA roll-ups (finance, auditor; the QA ones for qa too). */
@ApiTags('Reports')
@ApiErrors(503)
@Controller('v1/reports')
export class ReportsController {
  constructor(private readonly reports: Reports) {}

  @Get('kpis')
  @Roles('finance', 'auditor')
  @ApiOperation({
    summary: 'Collection KPIs',
    description: `Contact, right-party contact, promise, kept-promise and cure rates, amount recovered and contacts per cure of the cases opened in [from, to], split by \`by\` (dpd, channel, policy, segment, collector, agency). ${FORMAT_NOTE}`,
  })
  @ApiZodQuery(kpiQuery)
  @ApiOkResponse({ description: 'The KPI rows, one per key', content: CSV_OR_JSON })
  @ApiErrors(400)
  async kpis(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { from, to, format, by } = parseOrThrow(kpiQuery, query, 'query');
    await answer(req, res, format, `kpis-by-${by}`, await this.reports.kpis({ from, to }, by), ['key', 'cases']);
  }

  @Get('commission')
  @Roles('finance', 'auditor')
  @ApiOperation({
    summary: 'Agency commission',
    description: `Per agency and currency: what it recovered in [from, to] on the cases placed with it, and its commission at the placements' rates. ${FORMAT_NOTE}`,
  })
  @ApiZodQuery(periodQuery)
  @ApiOkResponse({ description: 'The commission rows', content: CSV_OR_JSON })
  @ApiErrors(400)
  async commission(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { from, to, format } = parseOrThrow(periodQuery, query, 'query');
    await answer(req, res, format, 'commission', await this.reports.commission({ from, to }), ['agency', 'currency', 'placements', 'recovered', 'commission']);
  }

  @Get('roll-rates')
  @Roles('finance', 'auditor')
  @ApiOperation({
    summary: 'Roll rates between DPD buckets',
    description: `Month over month, for the months from \`from\` to \`to\` whose next month has ended: where the open cases of each bucket stood a month later. ${FORMAT_NOTE}`,
  })
  @ApiZodQuery(periodQuery)
  @ApiOkResponse({ description: 'The roll-rate cells', content: CSV_OR_JSON })
  @ApiErrors(400)
  async rollRates(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { from, to, format } = parseOrThrow(periodQuery, query, 'query');
    await answer(req, res, format, 'roll-rates', await this.reports.rollRates({ from, to }), ['month', 'fromBucket', 'toBucket', 'cases', 'rate']);
  }

  @Get('cure-curve')
  @Roles('finance', 'auditor')
  @ApiOperation({
    summary: 'Cure curve per policy',
    description: `Per policy and day since opening (0 to \`days\`): the share of the cases opened in [from, to] cured within that many days. ${FORMAT_NOTE}`,
  })
  @ApiZodQuery(cureCurveQuery)
  @ApiOkResponse({ description: 'The curve points', content: CSV_OR_JSON })
  @ApiErrors(400)
  async cureCurve(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { from, to, format, days } = parseOrThrow(cureCurveQuery, query, 'query');
    await answer(req, res, format, 'cure-curve', await this.reports.cureCurve({ from, to }, days), ['policy', 'day', 'cases', 'cured', 'cureRate']);
  }

  @Get('funnel')
  @Roles('finance', 'auditor')
  @ApiOperation({ summary: 'Collection funnel', description: `Cases opened in [from, to]: contacted → promised → kept → paid. ${FORMAT_NOTE}` })
  @ApiZodQuery(periodQuery)
  @ApiOkResponse({ description: 'The funnel stages', content: CSV_OR_JSON })
  @ApiErrors(400)
  async funnel(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { from, to, format } = parseOrThrow(periodQuery, query, 'query');
    await answer(req, res, format, 'funnel', await this.reports.funnel({ from, to }), ['stage', 'cases']);
  }

  @Get('qa-scores')
  @Roles('qa', 'auditor', 'finance')
  @ApiOperation({
    summary: 'QA scores per key and day',
    description: `The qa.scored touches of [from, to] per collector, agency, template, policy or day (\`by\`) and UTC day. ${FORMAT_NOTE}`,
  })
  @ApiZodQuery(qaScoreQuery)
  @ApiOkResponse({ description: 'The score rows', content: CSV_OR_JSON })
  @ApiErrors(400)
  async qaScores(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { from, to, format, by } = parseOrThrow(qaScoreQuery, query, 'query');
    await answer(req, res, format, `qa-scores-by-${by}`, await this.reports.qaScores({ from, to }, by), [
      'key',
      'day',
      'scored',
      'averageScore',
      'failed',
      'autofailed',
    ]);
  }

  @Get('qa-findings')
  @Roles('qa', 'auditor')
  @ApiOperation({
    summary: 'QA findings by rule, with calibration',
    description: `Findings created in [from, to] per rule by review status, and the share of the reviewed ones that were confirmed. ${FORMAT_NOTE}`,
  })
  @ApiZodQuery(periodQuery)
  @ApiOkResponse({ description: 'The rows per rule', content: CSV_OR_JSON })
  @ApiErrors(400)
  async qaFindings(@Query() query: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { from, to, format } = parseOrThrow(periodQuery, query, 'query');
    await answer(req, res, format, 'qa-findings', await this.reports.qaFindings({ from, to }), [
      'ruleId',
      'findings',
      'open',
      'appealed',
      'confirmed',
      'overturned',
      'confirmedShare',
    ]);
  }
}
