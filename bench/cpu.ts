import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Client } from 'pg';

/** Linux reports a process's CPU in clock ticks; 100 a second on every common kernel build. */
const TICKS_PER_SECOND = 100;

/** CPU seconds, user and system, of one process (0 when it is gone). */
function processCpu(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5); fields here start at 3 (state).
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((child) => {
      try {
        const stat = readFileSync(`/proc/${child}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    });
}

/** CPU seconds by part of the run; what a notice costs the machine, wherever it is spent. */
export interface CpuByPart {
  service: number;
  postgres: number;
  redis: number;
  bench: number;
}

interface Reading {
  service: Map<number, number>;
  postgres: Map<number, number>;
  redis: number;
  bench: number;
}

/**
 * Reads the CPU the parts of a run used between `start` and `stop`: the service's processes
 * (the process and its worker processes), the PostgreSQL backends serving the bench database
 * (its background writers are left out), the Redis server (its own INFO figure) and this process
 * (the HTTP client and the SMTP sink). The server processes must run on this machine.
 */
export class CpuMeter {
  private constructor(
    private readonly servicePids: readonly number[],
    private readonly databaseUrl: string,
    private readonly redisUrl: string,
    private readonly before: Reading,
  ) {}

  /** `servicePids`: the service's processes (each with the worker processes it started). */
  static async start(servicePids: readonly number[], databaseUrl: string, redisUrl: string): Promise<CpuMeter> {
    return new CpuMeter(servicePids, databaseUrl, redisUrl, await read(servicePids, databaseUrl, redisUrl));
  }

  async stop(): Promise<CpuByPart> {
    const after = await read(this.servicePids, this.databaseUrl, this.redisUrl);
    // A process that started during the run counts from zero; one that ended during it is lost (pools keep theirs).
    const spent = (end: Map<number, number>, begin: Map<number, number>) => [...end].reduce((sum, [pid, cpu]) => sum + cpu - (begin.get(pid) ?? 0), 0);
    return {
      service: spent(after.service, this.before.service),
      postgres: spent(after.postgres, this.before.postgres),
      redis: after.redis - this.before.redis,
      bench: after.bench - this.before.bench,
    };
  }
}

async function read(servicePids: readonly number[], databaseUrl: string, redisUrl: string): Promise<Reading> {
  const service = new Map(servicePids.flatMap((pid) => [pid, ...childrenOf(pid)]).map((pid) => [pid, processCpu(pid)]));
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  let backends: number[];
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    backends = rows.map((row) => row.pid);
  } finally {
    await client.end();
  }
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let redisCpu: number;
  try {
    await redis.connect();
    const info = await redis.info('cpu');
    const figure = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
    redisCpu = figure('used_cpu_user') + figure('used_cpu_sys');
  } finally {
    redis.disconnect();
  }
  const own = process.cpuUsage();
  return {
    service,
    postgres: new Map(backends.map((pid) => [pid, processCpu(pid)])),
    redis: redisCpu,
    bench: (own.user + own.system) / 1e6,
  };
}
